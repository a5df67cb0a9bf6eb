import { type FastifyReply, type FastifyRequest } from 'fastify';

/** The request headers a console call carries to a service: credentials, the dossier, the trace. */
const FORWARDED_REQUEST = [
  'authorization',
  'x-api-key',
  'x-dossier-id',
  'accept',
  'content-type',
  'traceparent',
];
/** The answer headers the browser needs back. */
const FORWARDED_ANSWER = [
  'content-type',
  'x-audit-record',
  'retry-after',
  'www-authenticate',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/**
 * Passes a browser's call on to a bus service, as any other client would send it: the same
 * credentials, so the service authenticates, filters and audits it as it does every caller. Only
 * the headers above cross; cookies never do, and the console adds no credential of its own: only
 * `credential`, the signed-in user's access token held for them by the console's session.
 */
export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: string,
  path: string,
  timeoutMs: number,
  credential?: string,
): Promise<FastifyReply> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // The page's own header, if it sent one, wins: a development sign-in beside a session.
  if (credential && headers.authorization === undefined) headers.authorization = credential;
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== undefined;
  let answer: Response;
  try {
    answer = await fetch(`${upstream}${path}${query}`, {
      method: request.method,
      headers,
      ...(hasBody
        ? { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }
        : {}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (error) {
    request.log.warn({ err: error, upstream }, 'A service the console calls did not answer');
    return reply.code(502).type('application/problem+json').send({
      type: 'urn:lienthong:problem:upstream_unavailable',
      status: 502,
      title: 'Bad gateway',
      code: 'UPSTREAM_UNAVAILABLE',
      detail: 'The service behind the console did not answer',
    });
  }
  reply.code(answer.status);
  for (const name of FORWARDED_ANSWER) {
    const value = answer.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  return reply.send(Buffer.from(await answer.arrayBuffer()));
}

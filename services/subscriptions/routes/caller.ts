import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type PresentedCredential, type Principal } from '../../platform/credentials';
import { sendProblem } from '../../platform/http';

/** Checks a request's credential against the agency systems' keys. */
export type Authenticate = (presented: PresentedCredential) => Principal | undefined;

/** The callers {@link authenticateCallers} found, by request. */
const callers = new WeakMap<FastifyRequest, Principal>();

/**
 * Authenticates every request but the public ones before it is routed, as every lienthong
 * service does: without a valid key, a wrong method or an unknown path is a 401 too, so that a
 * stranger learns nothing of the routes. Call it before the routes are declared.
 */
export function authenticateCallers(app: FastifyInstance, authenticate: Authenticate): void {
  // A wrong method on an open path (`TRACE /healthz`) is a 405 for anyone, as the path is no secret.
  const open = new Set<string>();
  app.addHook('onRoute', (route) => {
    if (route.config?.public) open.add(route.url);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    if (request.is404 && open.has(request.url.split('?')[0] ?? '')) return;
    const principal = callerOf(request, reply, authenticate);
    if (!principal) return reply;
    callers.set(request, principal);
    return undefined;
  });
}

/**
 * The agency system calling, by its `X-API-Key` (or HTTP Basic); undefined once a 401 has been
 * sent for a missing or wrong one.
 */
export function callerOf(
  request: FastifyRequest,
  reply: FastifyReply,
  authenticate: Authenticate,
): Principal | undefined {
  const known = callers.get(request);
  if (known) return known;
  const apiKey = request.headers['x-api-key'];
  const principal = authenticate({
    authorization: request.headers.authorization,
    apiKey: Array.isArray(apiKey) ? undefined : apiKey,
  });
  if (!principal) {
    // RFC 9110 §11.6.1: a 401 names the scheme it takes.
    reply.header('www-authenticate', 'Basic realm="lienthong-subscriptions"');
    void sendProblem(reply, {
      status: 401,
      title: 'Unauthorized',
      code: 'UNAUTHORIZED',
      detail: 'A valid X-API-Key is required',
    });
  }
  return principal;
}

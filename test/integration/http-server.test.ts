import { type FastifyError, type FastifyInstance } from 'fastify';
import { createHttpServer, requestProblem, sendProblem } from '../../services/platform/http';
import { createLogger } from '../../services/platform/logger';
import { registerOpenApi } from '../../services/platform/openapi';
import { problemResponses } from '../../services/platform/problem';

interface Answer {
  statusCode: number;
  headers: Headers;
  json: <T = Record<string, unknown>>() => T;
}

/**
 * A service as the real ones are built (its own hooks, error handler and not-found handler),
 * listening on a loopback port: fastify's `inject` cannot be loaded under jest here.
 */
async function service(): Promise<{
  app: FastifyInstance;
  sent: string[];
  ask: (method: string, url: string) => Promise<Answer>;
}> {
  const app = createHttpServer({
    logger: createLogger({ name: 'unit-http', level: 'silent' }),
    bodyLimit: 1_024,
    maxParamLength: 20,
  });
  await registerOpenApi(app, {
    info: { title: 'unit', version: '1', description: 'A service for the tests' },
    errors: [400, 414],
  });
  const sent: string[] = [];
  // Stands for the lookup API's audit: every answer passes through onSend.
  app.addHook('onSend', async (_request, reply, payload) => {
    sent.push(`${reply.statusCode}`);
    return payload;
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const problem = requestProblem(error);
    return sendProblem(reply, {
      ...(problem ?? { status: 500, title: 'x', code: 'INTERNAL', detail: '' }),
      mine: true,
    });
  });
  app.setNotFoundHandler((_request, reply) =>
    sendProblem(reply, {
      status: 404,
      title: 'Not found',
      code: 'ROUTE_NOT_FOUND',
      detail: 'none',
      mine: true,
    }),
  );
  app.get(
    '/v1/things/:id',
    { schema: { summary: 'A thing', response: { 200: { type: 'object' }, ...problemResponses([404]) } } },
    async () => ({}),
  );
  app.post('/v1/things', { schema: { summary: 'Add a thing' } }, async () => ({}));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  apps.push(app);
  const ask = async (method: string, url: string): Promise<Answer> => {
    const response = await fetch(`${base}${url}`, { method });
    const text = await response.text();
    return { statusCode: response.status, headers: response.headers, json: <T>() => JSON.parse(text) as T };
  };
  return { app, sent, ask };
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, { required: string[] }> };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('createHttpServer', () => {
  it("answers a wrong method with 405 and Allow, through the service's handler and hooks", async () => {
    const { ask, sent } = await service();
    const answer = await ask('DELETE', '/v1/things/1');
    expect(answer.statusCode).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, HEAD');
    expect(answer.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED', mine: true });
    expect(sent).toEqual(['405']);
  });

  it.each([
    ['/v1/things/%ZZ', 400, 'MALFORMED_URL'],
    [`/v1/things/${'a'.repeat(21)}`, 414, 'URI_TOO_LONG'],
  ])(
    'answers %s, which fastify refuses before routing, through the same hooks',
    async (url, status, code) => {
      const { ask, sent } = await service();
      const answer = await ask('GET', url);
      expect({ status: answer.statusCode, body: answer.json() }).toMatchObject({
        status,
        body: { code, mine: true },
      });
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(sent).toEqual([String(status)]);
    },
  );

  it('keeps a path no method serves a 404', async () => {
    const { ask } = await service();
    const answer = await ask('GET', '/v1/nothing');
    expect({ status: answer.statusCode, allow: answer.headers.get('allow') }).toEqual({
      status: 404,
      allow: null,
    });
  });
});

describe('registerOpenApi', () => {
  it("documents every route's own and the service's common problems with the one Problem schema", async () => {
    const { ask } = await service();
    const document = (await ask('GET', '/openapi.json')).json<OpenApiDocument>();
    const responses = document.paths['/v1/things/{id}'].get.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '400', '404', '414']);
    expect(responses['404'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(document.components.schemas.Problem.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'code',
    ]);
    // A route that declares no success keeps one beside its problems.
    expect(Object.keys(document.paths['/v1/things'].post.responses).sort()).toEqual(['2XX', '400', '414']);
  });
});

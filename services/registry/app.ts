import swagger from '@fastify/swagger';
import { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { type Logger } from 'pino';
import { isRetriable } from '../platform/errors';
import {
  createHttpServer,
  type Readiness,
  registerOperations,
  requestProblem,
  sendProblem,
  isOpenRequest,
} from '../platform/http';
import { type PresentedCredential, type Principal } from '../platform/credentials';
import { REGISTRY_ERRORS, RegistryError, type RegistryErrorName } from './registry-errors';
import { type RegistryService } from './registry-service';
import { registerCompatibilityRoutes } from './routes/compatibility';
import { registerConfigRoutes } from './routes/config';
import { registerModeRoutes } from './routes/mode';
import { registerSchemaRoutes } from './routes/schemas';
import { registerServerRoutes } from './routes/server';
import {
  LIST_PARAMETERS,
  OPERATION_SUMMARIES,
  REGISTRY_CONTENT_TYPES,
  RESPONSE_CONTENT_TYPE,
} from './routes/shared';
import { registerSubjectRoutes } from './routes/subjects';

export interface RegistryAppOptions {
  service: RegistryService;
  authenticate: (presented: PresentedCredential) => Principal | undefined;
  logger: Logger;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  bodyLimit: number;
  ready: () => Readiness;
  /** The Kafka cluster the schema log lives in, and the registry cluster's name, for `/v1/metadata/id`. */
  clusterIds?: () => { kafka: string; registry: string };
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The schema registry's HTTP API: Confluent Schema Registry's REST API, route by route, with
 * the parameters its server takes read as its server reads them (see `jaxrs-params.ts`), so that
 * Confluent's clients work unchanged with their default settings, behind HTTP Basic credentials.
 * Errors carry Confluent's `error_code` and `message` inside an RFC 9457 problem, which both
 * Confluent's clients and lienthong's conventions read.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html
 * @see https://github.com/confluentinc/schema-registry/tree/master/core/src/main/java/io/confluent/kafka/schemaregistry/rest/resources
 */
export async function buildRegistryApp(options: RegistryAppOptions): Promise<FastifyInstance> {
  const { service } = options;
  const app = createHttpServer({ logger: options.logger, bodyLimit: options.bodyLimit });
  // Clients send a content type on GET and DELETE too, with no body: that is no body, not bad JSON.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Confluent's resources consume JSON and octet-stream only: `text/plain` is a 415 there, not a
  // string body that fails validation.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['application/json', ...REGISTRY_CONTENT_TYPES],
    { parseAs: 'string', bodyLimit: options.bodyLimit },
    (request, body, done) => (body === '' ? done(null, undefined) : json(request, body as string, done)),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'lienthong schema registry',
        description: "Confluent Schema Registry's REST API for the agencies' Avro contracts",
        version: '1',
      },
      // Relative: the document is served by the registry it describes, wherever that listens.
      servers: [{ url: '/' }],
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
    },
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  // Every answer is Confluent's media type, or a problem; bodies come in any of the client's types.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    const summary = OPERATION_SUMMARIES[`${String(method)} ${route.url}`];
    route.schema = {
      ...(summary ? { summary } : {}),
      produces: [RESPONSE_CONTENT_TYPE, 'application/problem+json'],
      ...(route.schema.body ? { consumes: ['application/json', ...REGISTRY_CONTENT_TYPES.slice(0, 2)] } : {}),
      ...route.schema,
    };
  });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    if (isOpenRequest(request)) return;
    const principal = options.authenticate({ authorization: request.headers.authorization });
    if (!principal) {
      reply.header('www-authenticate', 'Basic realm="lienthong-registry"');
      throw new RegistryError('UNAUTHORIZED', 'A valid client id and key are required (HTTP Basic)');
    }
    request.principal = principal;
  });
  // Jersey reads the first of repeated query values; list parameters keep them all.
  app.addHook('preValidation', async (request) => {
    const raw = request.query as Record<string, string | string[]>;
    request.query = Object.fromEntries(
      Object.entries(raw).map(([name, value]) => [
        name,
        Array.isArray(value) && !LIST_PARAMETERS.has(name) ? value[0] : value,
      ]),
    );
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (
      !isOpenRequest(request) &&
      reply.getHeader('content-type')?.toString().startsWith('application/json')
    ) {
      reply.type(RESPONSE_CONTENT_TYPE);
    }
    return payload;
  });

  registerOperations(app, { service: 'registry', ready: options.ready });
  app.setErrorHandler((error: FastifyError, request, reply) =>
    answerError(error, reply, request.log, request.body),
  );
  app.setNotFoundHandler((_request, reply) =>
    answer(reply, new RegistryError('ROUTE_NOT_FOUND', 'HTTP 404 Not Found')),
  );

  registerServerRoutes(app, options.clusterIds ?? (() => ({ kafka: '', registry: 'schema-registry' })));
  registerSchemaRoutes(app, service);
  registerSubjectRoutes(app, service);
  registerCompatibilityRoutes(app, service);
  registerConfigRoutes(app, service);
  registerModeRoutes(app, service);
  return app;
}

function answer(reply: FastifyReply, error: RegistryError): FastifyReply {
  const spec = REGISTRY_ERRORS[error.registryCode];
  if (spec.status === 503) reply.header('retry-after', '1');
  return sendProblem(reply, {
    status: spec.status,
    title: spec.title,
    code: error.registryCode,
    detail: error.message,
    // Confluent's two fields, which its clients read.
    error_code: spec.errorCode,
    message: error.message,
    ...(error.issues.length > 0 ? { errors: error.issues } : {}),
  });
}

/** Which Confluent error a failed request validation maps to, by the field at fault. */
function validationError(error: FastifyError, body: unknown): RegistryError {
  if (error.validationContext === 'body' && (body === undefined || body === null)) {
    return new RegistryError('UNPROCESSABLE_REQUEST', 'The request body may not be null', {
      issues: [{ path: 'body', message: 'is required' }],
    });
  }
  const issues = (error.validation ?? []).map((v) => {
    const missing = v.keyword === 'required' ? `/${String(v.params.missingProperty)}` : '';
    const path = `${error.validationContext ?? 'request'}${(v.instancePath + missing).replaceAll('/', '.')}`;
    return { path, message: v.message ?? 'is invalid' };
  });
  const first = issues[0]?.path ?? '';
  // A write to a subject name this registry does not accept; a body of the wrong shape is Jackson's 400.
  const name: RegistryErrorName = first === 'params.subject' ? 'INVALID_SUBJECT' : 'MALFORMED_REQUEST';
  return new RegistryError(name, issues.map((i) => `${i.path} ${i.message}`).join('; '), { issues });
}

function answerError(
  error: FastifyError,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  body: unknown,
): FastifyReply {
  if (error instanceof RegistryError) return answer(reply, error);
  if (error.validation) return answer(reply, validationError(error, body));
  const problem = requestProblem(error);
  if (problem) {
    // The framework's refusals keep their code where the registry has it (413, 414, 415, 405).
    const name = (problem.code in REGISTRY_ERRORS ? problem.code : 'MALFORMED_REQUEST') as RegistryErrorName;
    return answer(reply, new RegistryError(name, problem.detail, { issues: problem.errors ?? [] }));
  }
  if (isRetriable(error)) {
    log.warn({ err: error }, 'The schema log is unavailable');
    return answer(reply, new RegistryError('STORE_TIMEOUT', 'The schema log is unavailable; try again'));
  }
  log.error({ err: error }, 'Unexpected registry error');
  return answer(reply, new RegistryError('STORE_ERROR', 'Unexpected error in the registry'));
}

import swagger from '@fastify/swagger';
import { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { type Logger } from 'pino';
import { isRetriable } from '../platform/errors';
import { createHttpServer, registerOperations, requestProblem, sendProblem } from '../platform/http';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './compatibility';
import { type PresentedCredential, type Principal } from '../platform/credentials';
import { REGISTRY_ERRORS, RegistryError, type RegistryErrorName } from './registry-errors';
import { type RegistryService, type VersionRef } from './registry-service';

export interface RegistryAppOptions {
  service: RegistryService;
  authenticate: (presented: PresentedCredential) => Principal | undefined;
  logger: Logger;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  bodyLimit: number;
  ready: () => boolean;
}

/** Confluent's clients send and expect these; plain JSON is accepted too. */
const REGISTRY_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/octet-stream',
];
const RESPONSE_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

// Subjects are topic-derived names (`tax-value`) or record names (`vn.hanoi.lienthong.tax.TaxEvent`).
const SUBJECT = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,255}$' } as const;
const VERSION = { type: 'string', pattern: '^(latest|-1|[1-9][0-9]{0,9})$' } as const;
const FLAG = { type: 'string', enum: ['true', 'false'] } as const;
// Query parameters that Confluent's Java client sends; accepted and not acted upon.
const CLIENT_EXTRAS = {
  normalize: FLAG,
  format: { type: 'string', maxLength: 50 },
  fetchMaxId: FLAG,
} as const;
const SCHEMA_BODY = {
  type: 'object',
  required: ['schema'],
  additionalProperties: false,
  properties: {
    schema: { type: 'string', minLength: 1 },
    schemaType: { type: 'string', enum: ['AVRO'] },
    references: { type: 'array', maxItems: 0 },
    metadata: { type: 'null' },
    ruleSet: { type: 'null' },
  },
} as const;
const LEVEL_BODY = {
  type: 'object',
  required: ['compatibility'],
  additionalProperties: false,
  properties: { compatibility: { type: 'string', enum: COMPATIBILITY_LEVELS } },
} as const;
const SCHEMA_VERSION = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    id: { type: 'integer' },
    version: { type: 'integer' },
    schema: { type: 'string' },
  },
} as const;
const LEVEL = { type: 'object', properties: { compatibilityLevel: { type: 'string' } } } as const;

interface SubjectParams {
  subject: string;
}
interface VersionParams extends SubjectParams {
  version: string;
}
interface Flags {
  deleted?: 'true' | 'false';
  permanent?: 'true' | 'false';
  verbose?: 'true' | 'false';
  defaultToGlobal?: 'true' | 'false';
}
interface SchemaBody {
  schema: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The schema registry's HTTP API: Confluent Schema Registry's REST API, so that its clients work
 * unchanged, behind HTTP Basic credentials. Errors carry Confluent's `error_code` and `message`
 * inside an RFC 9457 problem, which both Confluent's clients and lienthong's conventions read.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html
 */
export async function buildRegistryApp(options: RegistryAppOptions): Promise<FastifyInstance> {
  const { service } = options;
  const app = createHttpServer({ logger: options.logger, bodyLimit: options.bodyLimit });
  // Clients send a content type on GET and DELETE too, with no body: that is no body, not bad JSON.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
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
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
    },
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const principal = options.authenticate({ authorization: request.headers.authorization });
    if (!principal) {
      reply.header('www-authenticate', 'Basic realm="lienthong-registry"');
      throw new RegistryError('UNAUTHORIZED', 'A valid client id and key are required (HTTP Basic)');
    }
    request.principal = principal;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (
      !request.routeOptions.config.public &&
      reply.getHeader('content-type')?.toString().startsWith('application/json')
    ) {
      reply.type(RESPONSE_CONTENT_TYPE);
    }
    return payload;
  });

  registerOperations(app, { service: 'registry', ready: options.ready });
  app.setErrorHandler((error: FastifyError, request, reply) => answerError(error, reply, request.log));
  app.setNotFoundHandler((request, reply) =>
    answer(
      reply,
      new RegistryError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );

  const principal = (request: { principal: Principal | null }): Principal => request.principal as Principal;

  app.get(
    '/schemas/types',
    { schema: { response: { 200: { type: 'array', items: { type: 'string' } } } } },
    async () => ['AVRO'],
  );

  app.get<{ Params: { id: number } }>(
    '/schemas/ids/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...CLIENT_EXTRAS, subject: SUBJECT },
        },
        response: { 200: { type: 'object', properties: { schema: { type: 'string' } } } },
      },
    },
    async (request) => ({ schema: await service.schemaById(Number(request.params.id)) }),
  );

  app.get<{ Params: { id: string } }>(
    '/schemas/ids/:id/versions',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } } },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: { subject: { type: 'string' }, version: { type: 'integer' } },
            },
          },
        },
      },
    },
    async (request) => {
      await service.schemaById(Number(request.params.id));
      return service.subjectsOfSchema(Number(request.params.id));
    },
  );

  app.get<{ Querystring: Flags }>(
    '/subjects',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { deleted: FLAG } },
        response: { 200: { type: 'array', items: { type: 'string' } } },
      },
    },
    async (request) => service.subjects(request.query.deleted === 'true'),
  );

  app.get<{ Params: SubjectParams; Querystring: Flags }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: { type: 'object', additionalProperties: false, properties: { deleted: FLAG } },
        response: { 200: { type: 'array', items: { type: 'integer' } } },
      },
    },
    async (request) => service.versions(request.params.subject, request.query.deleted === 'true'),
  );

  app.get<{ Params: VersionParams; Querystring: Flags }>(
    '/subjects/:subject/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { deleted: FLAG, ...CLIENT_EXTRAS },
        },
        response: { 200: SCHEMA_VERSION },
      },
    },
    async (request) =>
      service.version(
        request.params.subject,
        versionRef(request.params.version),
        request.query.deleted === 'true',
      ),
  );

  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version/schema',
    { schema: { params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } } } },
    async (request, reply) => {
      const found = await service.version(request.params.subject, versionRef(request.params.version));
      return reply.type(RESPONSE_CONTENT_TYPE).send(found.schema);
    },
  );

  app.post<{ Params: SubjectParams; Body: SchemaBody }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: { type: 'object', additionalProperties: false, properties: CLIENT_EXTRAS },
        body: SCHEMA_BODY,
        response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } },
      },
    },
    async (request) => {
      const { id } = await service.register(request.params.subject, request.body.schema, principal(request));
      return { id };
    },
  );

  app.post<{ Params: SubjectParams; Body: SchemaBody; Querystring: Flags }>(
    '/subjects/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { deleted: FLAG, ...CLIENT_EXTRAS },
        },
        body: SCHEMA_BODY,
        response: { 200: SCHEMA_VERSION },
      },
    },
    async (request) =>
      service.lookup(request.params.subject, request.body.schema, request.query.deleted === 'true'),
  );

  app.delete<{ Params: SubjectParams; Querystring: Flags }>(
    '/subjects/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: { type: 'object', additionalProperties: false, properties: { permanent: FLAG } },
        response: { 200: { type: 'array', items: { type: 'integer' } } },
      },
    },
    async (request) =>
      service.deleteSubject(request.params.subject, request.query.permanent === 'true', principal(request)),
  );

  app.delete<{ Params: VersionParams; Querystring: Flags }>(
    '/subjects/:subject/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: { type: 'object', additionalProperties: false, properties: { permanent: FLAG } },
        response: { 200: { type: 'integer' } },
      },
    },
    async (request) =>
      service.deleteVersion(
        request.params.subject,
        versionRef(request.params.version),
        request.query.permanent === 'true',
        principal(request),
      ),
  );

  app.get('/config', { schema: { response: { 200: LEVEL } } }, async () => ({
    compatibilityLevel: await service.config(null),
  }));

  app.put<{ Body: { compatibility: CompatibilityLevel } }>(
    '/config',
    {
      schema: {
        body: LEVEL_BODY,
        response: { 200: { type: 'object', properties: { compatibility: { type: 'string' } } } },
      },
    },
    async (request) => ({
      compatibility: await service.setConfig(null, request.body.compatibility, principal(request)),
    }),
  );

  app.get<{ Params: SubjectParams; Querystring: Flags }>(
    '/config/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: { type: 'object', additionalProperties: false, properties: { defaultToGlobal: FLAG } },
        response: { 200: LEVEL },
      },
    },
    async (request) => ({
      compatibilityLevel: await service.config(
        request.params.subject,
        request.query.defaultToGlobal === 'true',
      ),
    }),
  );

  app.put<{ Params: SubjectParams; Body: { compatibility: CompatibilityLevel } }>(
    '/config/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        body: LEVEL_BODY,
        response: { 200: { type: 'object', properties: { compatibility: { type: 'string' } } } },
      },
    },
    async (request) => ({
      compatibility: await service.setConfig(
        request.params.subject,
        request.body.compatibility,
        principal(request),
      ),
    }),
  );

  app.delete<{ Params: SubjectParams }>(
    '/config/:subject',
    { schema: { params: { type: 'object', properties: { subject: SUBJECT } }, response: { 200: LEVEL } } },
    async (request) => ({
      compatibilityLevel: await service.deleteConfig(request.params.subject, principal(request)),
    }),
  );

  app.post<{ Params: VersionParams; Body: SchemaBody; Querystring: Flags }>(
    '/compatibility/subjects/:subject/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { verbose: FLAG, ...CLIENT_EXTRAS },
        },
        body: SCHEMA_BODY,
        response: {
          200: {
            type: 'object',
            properties: {
              is_compatible: { type: 'boolean' },
              messages: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request) => {
      const verdict = await service.testCompatibility(
        request.params.subject,
        versionRef(request.params.version),
        request.body.schema,
      );
      return {
        is_compatible: verdict.compatible,
        ...(request.query.verbose === 'true'
          ? { messages: verdict.issues.map((i) => `${i.path}: ${i.message}`) }
          : {}),
      };
    },
  );

  return app;
}

function versionRef(text: string): VersionRef {
  return text === 'latest' || text === '-1' ? 'latest' : Number(text);
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

/** Which Confluent error a failed request-validation maps to, by the field at fault. */
function validationError(error: FastifyError): RegistryError {
  const issues = (error.validation ?? []).map((v) => {
    const missing = v.keyword === 'required' ? `/${String(v.params.missingProperty)}` : '';
    const extra = v.keyword === 'additionalProperties' ? `/${String(v.params.additionalProperty)}` : '';
    const path = `${error.validationContext ?? 'request'}${(v.instancePath + missing + extra).replaceAll('/', '.')}`;
    const message = extra ? `unknown field ${extra.slice(1)}` : (v.message ?? 'is invalid');
    return { path, message };
  });
  const first = issues[0]?.path ?? '';
  const name: RegistryErrorName =
    first === 'params.version'
      ? 'INVALID_VERSION'
      : first === 'params.subject'
        ? 'INVALID_SUBJECT'
        : first === 'body.compatibility'
          ? 'INVALID_COMPATIBILITY_LEVEL'
          : first === 'body.references' || first === 'body.schemaType'
            ? 'INVALID_SCHEMA'
            : 'MALFORMED_REQUEST';
  return new RegistryError(name, issues.map((i) => `${i.path} ${i.message}`).join('; '), { issues });
}

function answerError(error: FastifyError, reply: FastifyReply, log: FastifyBaseLogger): FastifyReply {
  if (error instanceof RegistryError) return answer(reply, error);
  if (error.validation) return answer(reply, validationError(error));
  const problem = requestProblem(error);
  if (problem) {
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

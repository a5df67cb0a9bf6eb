import swagger from '@fastify/swagger';
import {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { type Logger } from 'pino';
import { isRetriable } from '../platform/errors';
import { createHttpServer, registerOperations, requestProblem, sendProblem } from '../platform/http';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel, isCompatibilityLevel } from './compatibility';
import { type PresentedCredential, type Principal } from '../platform/credentials';
import { firstValue, page, pathInt, type Query, queryFlag, SCHEMA_SEARCH, versionId } from './jaxrs-params';
import { REGISTRY_ERRORS, RegistryError, type RegistryErrorName } from './registry-errors';
import { type LookupFilter, type SchemaVersion } from './registry-state';
import { type CompatibilityTarget, type RegistryService, type SchemaRequest } from './registry-service';

export interface RegistryAppOptions {
  service: RegistryService;
  authenticate: (presented: PresentedCredential) => Principal | undefined;
  logger: Logger;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  bodyLimit: number;
  ready: () => boolean;
  /** The Kafka cluster the schema log lives in, and the registry cluster's name, for `/v1/metadata/id`. */
  clusterIds?: () => { kafka: string; registry: string };
}

/** Confluent's clients send and expect these; plain JSON is accepted too. */
const REGISTRY_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/octet-stream',
];
const RESPONSE_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Confluent's server has one mode here: every subject reads and writes. */
const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT', 'FORWARD'] as const;
/** Query parameters that take a list, so that every repeated value counts. */
const LIST_PARAMETERS = new Set(['key', 'value', 'findTags', 'associationType', 'lifecycle']);

// Subjects a write may create: topic-derived names (`tax-value`) or record names
// (`vn.hanoi.lienthong.tax.TaxEvent`). Reads take any text and simply find nothing.
const WRITABLE_SUBJECT = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,255}$',
  description: 'A topic-derived or record name: letters, digits and . _ : -',
} as const;
const SUBJECT = { type: 'string', description: 'Subject name' } as const;
const VERSION = {
  type: 'string',
  description: 'latest (any letter case), -1, or an integer from 1 to 2^31-1; anything else is 42202',
} as const;
const SCHEMA_ID = {
  type: 'string',
  description: 'Schema id; a value that is not a 32-bit integer answers 404',
} as const;

const BOOLEAN_DOC = 'JAX-RS boolean: true in any letter case is true; anything else, or nothing, is false';
const INT_DOC = 'JAX-RS int: an optional sign and digits within 32 bits; anything else answers 404';
const PARAMETERS = {
  deleted: BOOLEAN_DOC,
  deletedOnly: BOOLEAN_DOC,
  deletedAsNegative: BOOLEAN_DOC,
  permanent: BOOLEAN_DOC,
  verbose: BOOLEAN_DOC,
  normalize: `${BOOLEAN_DOC}; accepted: schemas are always compared in canonical form`,
  defaultToGlobal: BOOLEAN_DOC,
  latestOnly: BOOLEAN_DOC,
  fetchMaxId: BOOLEAN_DOC,
  force: `${BOOLEAN_DOC}; true is refused with 42205 (forced registration skips compatibility checks)`,
  recursive: BOOLEAN_DOC,
  offset: `${INT_DOC}; items to skip, 0 by default`,
  limit: `${INT_DOC}; items to return, all by default (1000 at most for schema searches)`,
  format: 'Accepted; Avro schemas are always returned in canonical form',
  referenceFormat: 'Accepted; this registry has no references',
  subjectPrefix: 'Only subjects that start with this text',
  contextPrefix: 'Only contexts that start with this text',
  subject: 'A subject name',
  key: 'Metadata key (repeatable)',
  value: 'Metadata value (repeatable)',
} as const;
type ParameterName = keyof typeof PARAMETERS;

/** A querystring schema that documents `names` and lets any other parameter through, as Jersey does. */
function query(...names: ParameterName[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(
      names.map((name) => [
        name,
        LIST_PARAMETERS.has(name)
          ? {
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
              description: PARAMETERS[name],
            }
          : { type: 'string', description: PARAMETERS[name] },
      ]),
    ),
  } as const;
}

const PROBLEM = {
  type: 'object',
  description: "RFC 9457 problem, with Confluent's error_code and message",
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: "lienthong's stable code" },
    error_code: { type: 'integer', description: "Confluent's error code, which its clients read" },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

/** The error answers a route may give, by status, with the Confluent codes each status carries. */
function errors(...names: RegistryErrorName[]): Record<number, object> {
  const all: RegistryErrorName[] = ['UNAUTHORIZED', 'STORE_ERROR', 'STORE_TIMEOUT', ...names];
  const byStatus = new Map<number, string[]>();
  for (const name of all) {
    const { status, errorCode } = REGISTRY_ERRORS[name];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${errorCode} (${name})`]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      { ...PROBLEM, description: `error_code ${[...new Set(codes)].join(', ')}` },
    ]),
  );
}
const READ_ERRORS = ['MALFORMED_REQUEST', 'PARAMETER_NOT_CONVERTIBLE'] as const;
const WRITE_ERRORS = [...READ_ERRORS, 'FORBIDDEN', 'UNPROCESSABLE_REQUEST'] as const;

const SCHEMA_BODY = {
  type: 'object',
  description: "Confluent's RegisterSchemaRequest; members not listed are ignored",
  properties: {
    schema: { type: ['string', 'null'], description: 'The Avro schema, as JSON text' },
    schemaType: { type: ['string', 'null'], description: 'AVRO, or absent; other types are 42201' },
    references: { type: ['array', 'null'], description: 'Empty or absent; references are 42201' },
    metadata: { type: ['object', 'null'], description: 'Empty or absent; metadata is 42201' },
    ruleSet: { type: ['object', 'null'], description: 'Empty or absent; rule sets are 42210' },
    id: { type: ['integer', 'null'], description: 'IMPORT mode only: an id is 42205' },
    version: { type: ['integer', 'null'], description: 'The next version, or absent' },
  },
} as const;
const LEVEL_BODY = {
  type: 'object',
  description: "Confluent's ConfigUpdateRequest; members not listed are ignored",
  properties: {
    compatibility: {
      type: ['string', 'null'],
      description: `One of ${COMPATIBILITY_LEVELS.join(', ')}, in any letter case; anything else is 42203`,
    },
  },
} as const;
const MODE_BODY = {
  type: 'object',
  properties: {
    mode: { type: ['string', 'null'], description: `READWRITE; ${MODES.slice(1).join(', ')} are 42205` },
  },
} as const;
const SCHEMA_VERSION = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    version: { type: 'integer' },
    id: { type: 'integer' },
    schema: { type: 'string', description: "Confluent's canonical form of the schema" },
  },
} as const;
const SUBJECT_VERSION = {
  type: 'object',
  properties: { subject: { type: 'string' }, version: { type: 'integer' } },
} as const;
const LEVEL = { type: 'object', properties: { compatibilityLevel: { type: 'string' } } } as const;
const LEVEL_UPDATE = { type: 'object', properties: { compatibility: { type: 'string' } } } as const;
const MODE = { type: 'object', properties: { mode: { type: 'string' } } } as const;
const STRINGS = { type: 'array', items: { type: 'string' } } as const;
const INTEGERS = { type: 'array', items: { type: 'integer' } } as const;
const RAW_SCHEMA = {
  description: 'The schema itself, as JSON text',
  type: ['object', 'array', 'string'],
} as const;
const COMPATIBILITY = {
  type: 'object',
  properties: {
    is_compatible: { type: 'boolean' },
    messages: { type: 'array', items: { type: 'string' }, description: 'With verbose=true' },
  },
} as const;

interface SubjectParams {
  subject: string;
}
interface VersionParams extends SubjectParams {
  version: string;
}
interface IdParams {
  id: string;
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

  // Every answer is Confluent's media type, or a problem; bodies come in any of the client's types.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    route.schema = {
      produces: [RESPONSE_CONTENT_TYPE, 'application/problem+json'],
      ...(route.schema.body ? { consumes: ['application/json', ...REGISTRY_CONTENT_TYPES.slice(0, 2)] } : {}),
      ...route.schema,
    };
  });

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
      !request.routeOptions.config.public &&
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

  const principal = (request: { principal: Principal | null }): Principal => request.principal as Principal;
  const q = (request: FastifyRequest): Query => request.query as Query;
  const schemaId = (request: FastifyRequest<{ Params: IdParams }>) => pathInt(request.params.id, 'id');

  // Root, server metadata and contexts: what clients and the CLI probe first.
  app.get('/', { schema: { response: { 200: { type: 'object' }, ...errors() } } }, async () => ({}));
  app.get(
    '/v1/metadata/id',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              scope: {
                type: 'object',
                properties: {
                  path: STRINGS,
                  clusters: { type: 'object', additionalProperties: { type: 'string' } },
                },
              },
            },
          },
          ...errors(),
        },
      },
    },
    async () => {
      const ids = options.clusterIds?.() ?? { kafka: '', registry: 'schema-registry' };
      return {
        id: '',
        scope: {
          path: [],
          clusters: { 'kafka-cluster': ids.kafka, 'schema-registry-cluster': ids.registry },
        },
      };
    },
  );
  app.get(
    '/contexts',
    {
      schema: {
        querystring: query('offset', 'limit', 'contextPrefix'),
        response: { 200: STRINGS, ...errors(...READ_ERRORS) },
      },
    },
    async (request) =>
      page(
        ['.'].filter((c) => c.startsWith(firstValue(q(request), 'contextPrefix') ?? '')),
        q(request),
      ),
  );

  // Schemas by id.
  app.get(
    '/schemas',
    {
      schema: {
        querystring: query('subjectPrefix', 'deleted', 'latestOnly', 'offset', 'limit'),
        response: { 200: { type: 'array', items: SCHEMA_VERSION }, ...errors(...READ_ERRORS) },
      },
    },
    async (request) =>
      page(
        await service.schemas(
          firstValue(q(request), 'subjectPrefix') ?? '',
          queryFlag(q(request), 'deleted'),
          queryFlag(q(request), 'latestOnly'),
        ),
        q(request),
        SCHEMA_SEARCH,
      ),
  );
  app.get('/schemas/types', { schema: { response: { 200: STRINGS, ...errors() } } }, async () => ['AVRO']);
  app.get<{ Params: IdParams }>(
    '/schemas/ids/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: SCHEMA_ID } },
        querystring: query('subject', 'format', 'referenceFormat', 'fetchMaxId'),
        response: {
          200: { type: 'object', properties: { schema: { type: 'string' }, maxId: { type: 'integer' } } },
          ...errors(...READ_ERRORS, 'SCHEMA_NOT_FOUND'),
        },
      },
    },
    async (request) => ({
      schema: await service.schemaById(schemaId(request)),
      ...(queryFlag(q(request), 'fetchMaxId') ? { maxId: service.maxId() } : {}),
    }),
  );
  app.get<{ Params: IdParams }>(
    '/schemas/ids/:id/schema',
    {
      schema: {
        params: { type: 'object', properties: { id: SCHEMA_ID } },
        querystring: query('subject', 'format'),
        response: { 200: RAW_SCHEMA, ...errors(...READ_ERRORS, 'SCHEMA_NOT_FOUND') },
      },
    },
    async (request, reply) =>
      reply.type(RESPONSE_CONTENT_TYPE).send(await service.schemaById(schemaId(request))),
  );
  app.get<{ Params: IdParams }>(
    '/schemas/ids/:id/subjects',
    {
      schema: {
        params: { type: 'object', properties: { id: SCHEMA_ID } },
        querystring: query('subject', 'deleted', 'offset', 'limit'),
        response: { 200: STRINGS, ...errors(...READ_ERRORS, 'SCHEMA_NOT_FOUND') },
      },
    },
    async (request) => {
      const uses = await service.versionsOfSchema(
        schemaId(request),
        queryFlag(q(request), 'deleted'),
        firstValue(q(request), 'subject'),
      );
      return page([...new Set(uses.map((use) => use.subject))], q(request));
    },
  );
  app.get<{ Params: IdParams }>(
    '/schemas/ids/:id/versions',
    {
      schema: {
        params: { type: 'object', properties: { id: SCHEMA_ID } },
        querystring: query('subject', 'deleted', 'offset', 'limit'),
        response: {
          200: { type: 'array', items: SUBJECT_VERSION },
          ...errors(...READ_ERRORS, 'SCHEMA_NOT_FOUND'),
        },
      },
    },
    async (request) =>
      page(
        await service.versionsOfSchema(
          schemaId(request),
          queryFlag(q(request), 'deleted'),
          firstValue(q(request), 'subject'),
        ),
        q(request),
      ),
  );

  // Subjects and their versions.
  app.get(
    '/subjects',
    {
      schema: {
        querystring: query('subjectPrefix', 'deleted', 'deletedOnly', 'offset', 'limit'),
        response: { 200: STRINGS, ...errors(...READ_ERRORS) },
      },
    },
    async (request) => {
      const prefix = firstValue(q(request), 'subjectPrefix') ?? '';
      // Confluent's default prefix `:*:` is the wildcard of every subject of the default context.
      return page(
        await service.subjects(lookupFilter(q(request)), prefix === ':*:' ? '' : prefix),
        q(request),
      );
    },
  );
  app.get<{ Params: SubjectParams }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('deleted', 'deletedOnly', 'deletedAsNegative', 'offset', 'limit'),
        response: { 200: INTEGERS, ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND') },
      },
    },
    async (request) => {
      const versions = await service.versions(
        request.params.subject,
        lookupFilter(q(request)),
        queryFlag(q(request), 'deletedAsNegative'),
      );
      return page(versions, q(request));
    },
  );
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: query('deleted', 'format', 'referenceFormat'),
        response: {
          200: SCHEMA_VERSION,
          ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND', 'VERSION_NOT_FOUND', 'INVALID_VERSION'),
        },
      },
    },
    async (request) =>
      present(
        await service.version(
          request.params.subject,
          versionId(request.params.version),
          queryFlag(q(request), 'deleted'),
        ),
      ),
  );
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version/schema',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: query('deleted', 'format'),
        response: {
          200: RAW_SCHEMA,
          ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND', 'VERSION_NOT_FOUND', 'INVALID_VERSION'),
        },
      },
    },
    async (request, reply) => {
      const found = await service.version(
        request.params.subject,
        versionId(request.params.version),
        queryFlag(q(request), 'deleted'),
      );
      return reply.type(RESPONSE_CONTENT_TYPE).send(found.schema);
    },
  );
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version/referencedby',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: query('deleted', 'offset', 'limit'),
        response: {
          200: INTEGERS,
          ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND', 'VERSION_NOT_FOUND', 'INVALID_VERSION'),
        },
      },
    },
    async (request) => {
      // No schema here has references, so none refers to this one once it is found.
      await service.version(request.params.subject, versionId(request.params.version), true);
      return page([] as number[], q(request), SCHEMA_SEARCH);
    },
  );
  app.get<{ Params: SubjectParams }>(
    '/subjects/:subject/metadata',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('key', 'value', 'deleted', 'format'),
        response: {
          200: SCHEMA_VERSION,
          ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND', 'SCHEMA_NOT_FOUND'),
        },
      },
    },
    async (request) => {
      // Confluent answers only versions whose metadata holds every pair; no version here has metadata.
      const filter = queryFlag(q(request), 'deleted') ? 'all' : 'live';
      await service.versions(request.params.subject, filter);
      throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
    },
  );
  app.post<{ Params: SubjectParams; Body: SchemaRequest | undefined }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: { type: 'object', properties: { subject: WRITABLE_SUBJECT } },
        querystring: query('normalize', 'format', 'force'),
        body: SCHEMA_BODY,
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'integer' }, version: { type: 'integer' }, schema: { type: 'string' } },
          },
          ...errors(
            ...WRITE_ERRORS,
            'INVALID_SUBJECT',
            'INVALID_SCHEMA',
            'INVALID_RULESET',
            'OPERATION_NOT_PERMITTED',
            'INCOMPATIBLE_SCHEMA',
            'PAYLOAD_TOO_LARGE',
            'UNSUPPORTED_MEDIA_TYPE',
          ),
        },
      },
    },
    async (request) => {
      if (queryFlag(q(request), 'force')) {
        throw new RegistryError(
          'OPERATION_NOT_PERMITTED',
          'Forced registration, which skips compatibility checks, is not allowed on this registry',
        );
      }
      const registered = await service.register(request.params.subject, body(request), principal(request));
      return { id: registered.id, version: registered.version, schema: registered.schema };
    },
  );
  app.post<{ Params: SubjectParams; Body: SchemaRequest | undefined }>(
    '/subjects/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('normalize', 'format', 'deleted'),
        body: SCHEMA_BODY,
        response: {
          200: SCHEMA_VERSION,
          ...errors(
            ...READ_ERRORS,
            'UNPROCESSABLE_REQUEST',
            'SUBJECT_NOT_FOUND',
            'SCHEMA_NOT_FOUND',
            'INVALID_SCHEMA',
            'INVALID_RULESET',
          ),
        },
      },
    },
    async (request) =>
      present(await service.lookup(request.params.subject, body(request), queryFlag(q(request), 'deleted'))),
  );
  app.delete<{ Params: SubjectParams }>(
    '/subjects/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('permanent'),
        response: {
          200: INTEGERS,
          ...errors(
            ...READ_ERRORS,
            'FORBIDDEN',
            'SUBJECT_NOT_FOUND',
            'SUBJECT_SOFT_DELETED',
            'SUBJECT_NOT_SOFT_DELETED',
          ),
        },
      },
    },
    async (request) =>
      service.deleteSubject(request.params.subject, queryFlag(q(request), 'permanent'), principal(request)),
  );
  app.delete<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
        querystring: query('permanent'),
        response: {
          200: { type: 'integer' },
          ...errors(
            ...READ_ERRORS,
            'FORBIDDEN',
            'SUBJECT_NOT_FOUND',
            'VERSION_NOT_FOUND',
            'VERSION_SOFT_DELETED',
            'VERSION_NOT_SOFT_DELETED',
            'INVALID_VERSION',
          ),
        },
      },
    },
    async (request) =>
      service.deleteVersion(
        request.params.subject,
        versionId(request.params.version),
        queryFlag(q(request), 'permanent'),
        principal(request),
      ),
  );

  // Compatibility checks.
  const compatibilityRoute =
    (target: (params: VersionParams) => CompatibilityTarget) =>
    async (request: FastifyRequest<{ Params: VersionParams; Body: SchemaRequest | undefined }>) => {
      const verbose = queryFlag(q(request), 'verbose');
      const verdict = await service.testCompatibility(
        request.params.subject,
        target(request.params),
        body(request),
        verbose,
      );
      return { is_compatible: verdict.compatible, ...(verbose ? { messages: verdict.messages } : {}) };
    };
  const compatibilitySchema = (withVersion: boolean) => ({
    params: {
      type: 'object',
      properties: withVersion ? { subject: SUBJECT, version: VERSION } : { subject: SUBJECT },
    },
    querystring: query('normalize', 'verbose'),
    body: SCHEMA_BODY,
    response: {
      200: COMPATIBILITY,
      ...errors(
        ...READ_ERRORS,
        'UNPROCESSABLE_REQUEST',
        'INVALID_SCHEMA',
        'INVALID_RULESET',
        ...(withVersion ? (['VERSION_NOT_FOUND', 'INVALID_VERSION'] as const) : []),
      ),
    },
  });
  app.post<{ Params: VersionParams; Body: SchemaRequest | undefined }>(
    '/compatibility/subjects/:subject/versions/:version',
    { schema: compatibilitySchema(true) },
    compatibilityRoute((params) => versionId(params.version)),
  );
  app.post<{ Params: VersionParams; Body: SchemaRequest | undefined }>(
    '/compatibility/subjects/:subject/versions',
    { schema: compatibilitySchema(false) },
    compatibilityRoute(() => 'all'),
  );

  // Compatibility levels.
  app.get(
    '/config',
    { schema: { querystring: query('defaultToGlobal'), response: { 200: LEVEL, ...errors() } } },
    async () => ({ compatibilityLevel: await service.config(null) }),
  );
  app.put<{ Body: { compatibility?: string | null } | undefined }>(
    '/config',
    {
      schema: {
        body: LEVEL_BODY,
        response: {
          200: LEVEL_UPDATE,
          ...errors(...WRITE_ERRORS, 'INVALID_COMPATIBILITY_LEVEL', 'UNSUPPORTED_MEDIA_TYPE'),
        },
      },
    },
    async (request) => ({
      compatibility: await service.setConfig(null, levelOf(request.body), principal(request)),
    }),
  );
  app.delete(
    '/config',
    { schema: { response: { 200: LEVEL, ...errors('FORBIDDEN') } } },
    async (request) => ({ compatibilityLevel: await service.deleteConfig(null, principal(request)) }),
  );
  app.get<{ Params: SubjectParams }>(
    '/config/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('defaultToGlobal'),
        response: { 200: LEVEL, ...errors(...READ_ERRORS, 'SUBJECT_CONFIG_NOT_FOUND') },
      },
    },
    async (request) => ({
      compatibilityLevel: await service.config(
        request.params.subject,
        queryFlag(q(request), 'defaultToGlobal'),
      ),
    }),
  );
  app.put<{ Params: SubjectParams; Body: { compatibility?: string | null } | undefined }>(
    '/config/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: WRITABLE_SUBJECT } },
        body: LEVEL_BODY,
        response: {
          200: LEVEL_UPDATE,
          ...errors(
            ...WRITE_ERRORS,
            'INVALID_SUBJECT',
            'INVALID_COMPATIBILITY_LEVEL',
            'UNSUPPORTED_MEDIA_TYPE',
          ),
        },
      },
    },
    async (request) => ({
      compatibility: await service.setConfig(
        request.params.subject,
        levelOf(request.body),
        principal(request),
      ),
    }),
  );
  app.delete<{ Params: SubjectParams }>(
    '/config/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        response: { 200: LEVEL, ...errors('FORBIDDEN', 'SUBJECT_NOT_FOUND') },
      },
    },
    async (request) => ({
      compatibilityLevel: await service.deleteConfig(request.params.subject, principal(request)),
    }),
  );

  // Modes: this registry is always READWRITE, which is what clients expect by default.
  const readWrite = { mode: 'READWRITE' } as const;
  app.get(
    '/mode',
    { schema: { querystring: query('defaultToGlobal'), response: { 200: MODE, ...errors() } } },
    async () => readWrite,
  );
  app.get<{ Params: SubjectParams }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('defaultToGlobal'),
        response: { 200: MODE, ...errors(...READ_ERRORS, 'SUBJECT_MODE_NOT_FOUND') },
      },
    },
    async (request) => {
      if (queryFlag(q(request), 'defaultToGlobal')) return readWrite;
      throw new RegistryError(
        'SUBJECT_MODE_NOT_FOUND',
        `Subject '${request.params.subject}' does not have subject-level mode configured`,
      );
    },
  );
  const modeErrors = errors(
    ...WRITE_ERRORS,
    'INVALID_MODE',
    'OPERATION_NOT_PERMITTED',
    'UNSUPPORTED_MEDIA_TYPE',
  );
  app.put<{ Body: { mode?: string | null } | undefined }>(
    '/mode',
    { schema: { querystring: query('force'), body: MODE_BODY, response: { 200: MODE, ...modeErrors } } },
    async (request) => {
      service.assertOperator(principal(request));
      return setMode(request.body);
    },
  );
  app.put<{ Params: SubjectParams; Body: { mode?: string | null } | undefined }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: WRITABLE_SUBJECT } },
        querystring: query('force'),
        body: MODE_BODY,
        response: {
          200: MODE,
          ...errors(...WRITE_ERRORS, 'INVALID_SUBJECT', 'INVALID_MODE', 'OPERATION_NOT_PERMITTED'),
        },
      },
    },
    async (request) => {
      service.assertMayWrite(principal(request), request.params.subject);
      return setMode(request.body);
    },
  );
  app.delete(
    '/mode',
    { schema: { querystring: query('recursive'), response: { 200: MODE, ...errors('FORBIDDEN') } } },
    async (request) => {
      service.assertOperator(principal(request));
      return readWrite;
    },
  );
  app.delete<{ Params: SubjectParams }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('recursive'),
        response: { 200: MODE, ...errors(...READ_ERRORS, 'FORBIDDEN', 'SUBJECT_NOT_FOUND') },
      },
    },
    async (request) => {
      service.assertMayWrite(principal(request), request.params.subject);
      // No subject has a mode of its own here, which Confluent answers as an unknown subject.
      throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${request.params.subject}' not found.`);
    },
  );

  return app;
}

/** A schema version as Confluent's `Schema` entity presents it. */
function present(v: SchemaVersion): { subject: string; version: number; id: number; schema: string } {
  return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
}

/** `deletedOnly` wins over `deleted`, as in Confluent's server. */
function lookupFilter(query: Query): LookupFilter {
  if (queryFlag(query, 'deletedOnly')) return 'deleted';
  return queryFlag(query, 'deleted') ? 'all' : 'live';
}

/** A request body, which Confluent's resources require (`@NotNull`): none is 422. */
function body<T extends object>(request: { body: T | undefined | null }): T {
  if (request.body === undefined || request.body === null) {
    throw new RegistryError('UNPROCESSABLE_REQUEST', 'The request body may not be null', {
      issues: [{ path: 'body', message: 'is required' }],
    });
  }
  return request.body;
}

/** The level a config update names, in any letter case, as Confluent's `CompatibilityLevel.forName`. */
function levelOf(request: { compatibility?: string | null } | undefined): CompatibilityLevel {
  const named = body({ body: request }).compatibility?.toUpperCase();
  if (isCompatibilityLevel(named)) return named;
  throw new RegistryError(
    'INVALID_COMPATIBILITY_LEVEL',
    `Invalid compatibility level. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
    {
      issues: [{ path: 'body.compatibility', message: `must be one of ${COMPATIBILITY_LEVELS.join(', ')}` }],
    },
  );
}

/** READWRITE is accepted as a no-op; other modes are valid in Confluent but not offered here. */
function setMode(request: { mode?: string | null } | undefined): { mode: 'READWRITE' } {
  const mode = body({ body: request }).mode?.toUpperCase() ?? '';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new RegistryError(
      'INVALID_MODE',
      'Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD',
      {
        issues: [{ path: 'body.mode', message: `must be one of ${MODES.join(', ')}` }],
      },
    );
  }
  if (mode !== 'READWRITE') {
    throw new RegistryError(
      'OPERATION_NOT_PERMITTED',
      `Mode ${mode} is not offered: this registry is always READWRITE`,
    );
  }
  return { mode: 'READWRITE' };
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
    const name: RegistryErrorName =
      problem.status === 413
        ? 'PAYLOAD_TOO_LARGE'
        : problem.status === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : 'MALFORMED_REQUEST';
    return answer(reply, new RegistryError(name, problem.detail, { issues: problem.errors ?? [] }));
  }
  if (isRetriable(error)) {
    log.warn({ err: error }, 'The schema log is unavailable');
    return answer(reply, new RegistryError('STORE_TIMEOUT', 'The schema log is unavailable; try again'));
  }
  log.error({ err: error }, 'Unexpected registry error');
  return answer(reply, new RegistryError('STORE_ERROR', 'Unexpected error in the registry'));
}

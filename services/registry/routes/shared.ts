import { type FastifyRequest } from 'fastify';
import { type Principal } from '../../platform/credentials';
import { type Query } from '../jaxrs-params';
import { REGISTRY_ERRORS, RegistryError, type RegistryErrorName } from '../registry-errors';

/*
 * What the registry's routes share: Confluent's media types, the JSON schemas of parameters,
 * bodies and answers (which also feed the OpenAPI description), and how a handler reads a request.
 */

/** Confluent's clients send and expect these; plain JSON is accepted too. */
export const REGISTRY_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/octet-stream',
];
export const RESPONSE_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Query parameters that take a list, so that every repeated value counts. */
export const LIST_PARAMETERS = new Set(['key', 'value', 'findTags', 'associationType', 'lifecycle']);

// Subjects a write may create: topic-derived names (`tax-value`) or record names
// (`vn.hanoi.lienthong.tax.TaxEvent`). Reads take any text and simply find nothing.
export const WRITABLE_SUBJECT = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,255}$',
  description: 'A topic-derived or record name: letters, digits and . _ : -',
} as const;
export const SUBJECT = { type: 'string', description: 'Subject name' } as const;
export const VERSION = {
  type: 'string',
  description: 'latest (any letter case), -1, or an integer from 1 to 2^31-1; anything else is 42202',
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
export type ParameterName = keyof typeof PARAMETERS;

/** A querystring schema that documents `names` and lets any other parameter through, as Jersey does. */
export function query(...names: ParameterName[]) {
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
export function errors(...names: RegistryErrorName[]): Record<number, object> {
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
export const READ_ERRORS = ['MALFORMED_REQUEST', 'PARAMETER_NOT_CONVERTIBLE'] as const;
/** What a route with a body may also answer: none (422), too large (413), not JSON (415). */
export const BODY_ERRORS = ['UNPROCESSABLE_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const;
/** A change: a body, and a credential that must be allowed to make it. */
export const WRITE_ERRORS = [...READ_ERRORS, 'FORBIDDEN', ...BODY_ERRORS] as const;

export const SCHEMA_BODY = {
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
export const SCHEMA_VERSION = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    version: { type: 'integer' },
    id: { type: 'integer' },
    schema: { type: 'string', description: "Confluent's canonical form of the schema" },
  },
} as const;
export const STRINGS = { type: 'array', items: { type: 'string' } } as const;
export const RAW_SCHEMA = {
  description: 'The schema itself, as JSON text',
  type: ['object', 'array', 'string'],
} as const;

export interface SubjectParams {
  subject: string;
}
export interface VersionParams extends SubjectParams {
  version: string;
}

/** The credential's principal; the onRequest hook has set it on every route that is not public. */
export function principal(request: { principal: Principal | null }): Principal {
  return request.principal as Principal;
}

/** The query, as Jersey's parameter semantics read it. */
export function q(request: FastifyRequest): Query {
  return request.query as Query;
}

/** A request body, which Confluent's resources require (`@NotNull`): none is 422. */
export function body<T extends object>(request: { body: T | undefined | null }): T {
  if (request.body === undefined || request.body === null) {
    throw new RegistryError('UNPROCESSABLE_REQUEST', 'The request body may not be null', {
      issues: [{ path: 'body', message: 'is required' }],
    });
  }
  return request.body;
}

/** One line per operation for the OpenAPI description, after Confluent's API reference. */
export const OPERATION_SUMMARIES: Readonly<Record<string, string>> = {
  'GET /': 'Root resource (no-op)',
  'POST /': 'Root resource, posted to (no-op)',
  'GET /v1/metadata/id': 'The Kafka cluster and registry cluster ids',
  'GET /contexts': 'List contexts',
  'GET /schemas': 'List schema versions of the subjects with a prefix',
  'GET /schemas/types': 'List schema types',
  'GET /schemas/ids/:id': 'Get a schema by id',
  'GET /schemas/ids/:id/schema': 'Get a schema by id, the schema alone',
  'GET /schemas/ids/:id/subjects': 'List the subjects that use a schema id',
  'GET /schemas/ids/:id/versions': 'List the subject versions that use a schema id',
  'GET /subjects': 'List subjects',
  'GET /subjects/:subject/versions': 'List versions of a subject',
  'GET /subjects/:subject/versions/:version': 'Get a version of a subject',
  'GET /subjects/:subject/versions/:version/schema': 'Get a version of a subject, the schema alone',
  'GET /subjects/:subject/versions/:version/referencedby': 'List the schema ids that reference a version',
  'GET /subjects/:subject/metadata': 'Get the latest version with the given metadata',
  'POST /subjects/:subject/versions': 'Register a schema under a subject',
  'POST /subjects/:subject': 'Look up a schema under a subject',
  'DELETE /subjects/:subject': 'Delete a subject, soft or permanently',
  'DELETE /subjects/:subject/versions/:version': 'Delete a version, soft or permanently',
  'POST /compatibility/subjects/:subject/versions/:version': 'Test compatibility with one version',
  'POST /compatibility/subjects/:subject/versions':
    "Test compatibility with the versions the subject's level compares with",
  'GET /config': 'Get the registry-wide compatibility level',
  'PUT /config': 'Set the registry-wide compatibility level',
  'DELETE /config': 'Remove the registry-wide compatibility level',
  'GET /config/:subject': "Get a subject's compatibility level",
  'PUT /config/:subject': "Set a subject's compatibility level",
  'DELETE /config/:subject': "Remove a subject's compatibility level",
  'GET /mode': 'Get the registry-wide mode',
  'PUT /mode': 'Set the registry-wide mode',
  'DELETE /mode': 'Remove the registry-wide mode',
  'GET /mode/:subject': "Get a subject's mode",
  'PUT /mode/:subject': "Set a subject's mode",
  'DELETE /mode/:subject': "Remove a subject's mode",
};

import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type Query, firstValue, page, queryFlag, SCHEMA_SEARCH, versionId } from '../jaxrs-params';
import { RegistryError } from '../registry-errors';
import { type LookupFilter, type SchemaVersion } from '../registry-state';
import { type RegistryService, type SchemaRequest } from '../registry-service';
import {
  body,
  BODY_ERRORS,
  errors,
  type ParameterName,
  principal,
  q,
  query,
  RAW_SCHEMA,
  READ_ERRORS,
  RESPONSE_CONTENT_TYPE,
  SCHEMA_BODY,
  SCHEMA_VERSION,
  STRINGS,
  SUBJECT,
  type SubjectParams,
  type VersionParams,
  VERSION,
  WRITABLE_SUBJECT,
  WRITE_ERRORS,
} from './shared';

const INTEGERS = { type: 'array', items: { type: 'integer' } } as const;

/** A schema version as Confluent's `Schema` entity presents it. */
function present(v: SchemaVersion): { subject: string; version: number; id: number; schema: string } {
  return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
}

/** `deletedOnly` wins over `deleted`, as in Confluent's server. */
function lookupFilter(query: Query): LookupFilter {
  if (queryFlag(query, 'deletedOnly')) return 'deleted';
  return queryFlag(query, 'deleted') ? 'all' : 'live';
}

/** Subjects and their versions: list, read, register, look up, delete. */
export function registerSubjectRoutes(app: FastifyInstance, service: RegistryService): void {
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
  // One version: the entity, its schema alone, or the schemas that refer to it.
  const versionSchema = (parameters: ParameterName[], ok: object) => ({
    params: { type: 'object', properties: { subject: SUBJECT, version: VERSION } },
    querystring: query(...parameters),
    response: {
      200: ok,
      ...errors(...READ_ERRORS, 'SUBJECT_NOT_FOUND', 'VERSION_NOT_FOUND', 'INVALID_VERSION'),
    },
  });
  const versionOf = (request: FastifyRequest<{ Params: VersionParams }>, includeDeleted: boolean) =>
    service.version(request.params.subject, versionId(request.params.version), includeDeleted);
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version',
    { schema: versionSchema(['deleted', 'format', 'referenceFormat'], SCHEMA_VERSION) },
    async (request) => present(await versionOf(request, queryFlag(q(request), 'deleted'))),
  );
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version/schema',
    { schema: versionSchema(['deleted', 'format'], RAW_SCHEMA) },
    async (request, reply) => {
      const found = await versionOf(request, queryFlag(q(request), 'deleted'));
      return reply.type(RESPONSE_CONTENT_TYPE).send(found.schema);
    },
  );
  app.get<{ Params: VersionParams }>(
    '/subjects/:subject/versions/:version/referencedby',
    { schema: versionSchema(['deleted', 'offset', 'limit'], INTEGERS) },
    async (request) => {
      // No schema here has references, so none refers to this one once it is found.
      await versionOf(request, true);
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
            ...BODY_ERRORS,
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
}

import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { firstValue, page, pathInt, queryFlag, SCHEMA_SEARCH } from '../jaxrs-params';
import { type RegistryService } from '../registry-service';
import {
  errors,
  q,
  query,
  RAW_SCHEMA,
  READ_ERRORS,
  RESPONSE_CONTENT_TYPE,
  SCHEMA_VERSION,
  STRINGS,
} from './shared';

const SCHEMA_ID = {
  type: 'string',
  description: 'Schema id; a value that is not a 32-bit integer answers 404',
} as const;

const SUBJECT_VERSION = {
  type: 'object',
  properties: { subject: { type: 'string' }, version: { type: 'integer' } },
} as const;

interface IdParams {
  id: string;
}

/** Schemas by id, and the search over every version (`GET /schemas`). */
export function registerSchemaRoutes(app: FastifyInstance, service: RegistryService): void {
  const schemaId = (request: FastifyRequest<{ Params: IdParams }>) => pathInt(request.params.id, 'id');
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
}

import { type FastifyInstance } from 'fastify';
import { firstValue, page } from '../jaxrs-params';
import { BODY_ERRORS, errors, q, query, READ_ERRORS, STRINGS } from './shared';

/** Root, server metadata and contexts: what clients and Confluent's CLI probe first. */
export function registerServerRoutes(
  app: FastifyInstance,
  clusterIds: () => { kafka: string; registry: string },
): void {
  app.get('/', { schema: { response: { 200: { type: 'object' }, ...errors() } } }, async () => ({}));
  app.post(
    '/',
    {
      schema: {
        body: { type: 'object', additionalProperties: { type: 'string' } },
        response: { 200: { type: 'object' }, ...errors(...READ_ERRORS, ...BODY_ERRORS) },
      },
    },
    async () => ({}),
  );
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
      const ids = clusterIds();
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
}

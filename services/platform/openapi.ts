import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { type FastifyInstance, type RouteOptions } from 'fastify';
import { ensureProblemSchema, problemResponses, type ProblemStatus } from './problem';

/**
 * The two ways an agency system presents its key to `createAuthenticator`: `X-API-Key:
 * <client id>.<key>`, or HTTP Basic with the client id and the key.
 */
export const AGENCY_KEY_SCHEMES = {
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  basic: { type: 'http', scheme: 'basic' },
} as const;

export interface OpenApiOptions {
  info: { title: string; version: string; description: string };
  /** Security schemes and which of them the operations take; none for an open service. */
  securitySchemes?: NonNullable<
    NonNullable<NonNullable<FastifyDynamicSwaggerOptions['openapi']>['components']>['securitySchemes']
  >;
  /** The error statuses every operation of the service may answer; routes declare the rest. */
  errors: readonly ProblemStatus[];
}

/**
 * Describes a service in OpenAPI 3 and serves the document at `GET /openapi.json`. Every route
 * declared after this call is documented with its own responses plus the service's common error
 * responses (and 413 and 415 where it takes a body), all referring to the one `Problem` schema. Call it before declaring routes; a
 * caller that cannot wait may leave the promise, as long as it declares its routes in a plugin.
 * @see https://spec.openapis.org/oas/v3.0.3
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  ensureProblemSchema(app);
  const common = problemResponses(options.errors);
  app.addHook('onRoute', (route: RouteOptions) => {
    // Operations endpoints declare their own few answers: no credential, no parameters.
    if (route.schema?.hide || route.config?.public) return;
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    // Declaring any answer hides swagger's default 200: a route that declares no success keeps one.
    const success = Object.keys(response).some((status) => status.startsWith('2'))
      ? {}
      : { '2xx': { description: 'Success' } };
    // A route that takes a body may meet the body limit and the media types it does not parse.
    const body = route.schema?.body ? problemResponses([413, 415]) : {};
    route.schema = { ...route.schema, response: { ...success, ...common, ...body, ...response } };
  });
  const schemes = options.securitySchemes ?? {};
  // Queued before anything else is, so that swagger sees every route declared after this call.
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: options.info,
      // Relative: the document is served by the service it describes, wherever that listens.
      servers: [{ url: '/' }],
      components: { securitySchemes: schemes },
      security: Object.keys(schemes).map((name) => ({ [name]: [] })),
    },
    // Shared schemas keep their `$id` as their name: `#/components/schemas/Problem`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  void app.register(async (scope) => {
    scope.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
      scope.swagger(),
    );
  });
  await app.after();
}

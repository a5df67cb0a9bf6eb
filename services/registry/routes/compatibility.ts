import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { queryFlag, versionId } from '../jaxrs-params';
import { type CompatibilityTarget, type RegistryService, type SchemaRequest } from '../registry-service';
import {
  body,
  BODY_ERRORS,
  errors,
  q,
  query,
  READ_ERRORS,
  SCHEMA_BODY,
  SUBJECT,
  type VersionParams,
  VERSION,
} from './shared';

const COMPATIBILITY = {
  type: 'object',
  properties: {
    is_compatible: { type: 'boolean' },
    messages: { type: 'array', items: { type: 'string' }, description: 'With verbose=true' },
  },
} as const;

/** Compatibility checks against one version, or against what the subject's level compares with. */
export function registerCompatibilityRoutes(app: FastifyInstance, service: RegistryService): void {
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
        ...BODY_ERRORS,
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
}

import { type FastifyInstance } from 'fastify';
import { type CompatibilityLevel, COMPATIBILITY_LEVELS, isCompatibilityLevel } from '../compatibility';
import { queryFlag } from '../jaxrs-params';
import { RegistryError } from '../registry-errors';
import { type RegistryService } from '../registry-service';
import {
  body,
  errors,
  principal,
  q,
  query,
  READ_ERRORS,
  SUBJECT,
  type SubjectParams,
  WRITABLE_SUBJECT,
  WRITE_ERRORS,
} from './shared';

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

const LEVEL = { type: 'object', properties: { compatibilityLevel: { type: 'string' } } } as const;

const LEVEL_UPDATE = { type: 'object', properties: { compatibility: { type: 'string' } } } as const;

/** Compatibility levels, registry-wide and per subject. */
export function registerConfigRoutes(app: FastifyInstance, service: RegistryService): void {
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
          ...errors(...WRITE_ERRORS, 'INVALID_COMPATIBILITY_LEVEL'),
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
          ...errors(...WRITE_ERRORS, 'INVALID_SUBJECT', 'INVALID_COMPATIBILITY_LEVEL'),
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

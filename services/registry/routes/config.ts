import { type FastifyInstance } from 'fastify';
import { type Principal } from '../../platform/credentials';
import { type CompatibilityLevel, COMPATIBILITY_LEVELS, isCompatibilityLevel } from '../compatibility';
import { queryFlag } from '../jaxrs-params';
import { RegistryError } from '../registry-errors';
import { type RegistryService, isSet } from '../registry-service';
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
      description: `One of ${COMPATIBILITY_LEVELS.join(', ')}, in any letter case; anything else is 42203; absent changes nothing`,
    },
    defaultRuleSet: { type: ['object', 'null'], description: 'Empty or absent; rule sets are 42210' },
    overrideRuleSet: { type: ['object', 'null'], description: 'Empty or absent; rule sets are 42210' },
    defaultMetadata: { type: ['object', 'null'], description: 'Empty or absent; metadata is 42205' },
    overrideMetadata: { type: ['object', 'null'], description: 'Empty or absent; metadata is 42205' },
  },
} as const;

/** The members of Confluent's ConfigUpdateRequest this registry reads. */
interface ConfigUpdate {
  compatibility?: string | null;
  defaultRuleSet?: object | null;
  overrideRuleSet?: object | null;
  defaultMetadata?: object | null;
  overrideMetadata?: object | null;
}

const LEVEL = { type: 'object', properties: { compatibilityLevel: { type: 'string' } } } as const;

const LEVEL_UPDATE = { type: 'object', properties: { compatibility: { type: 'string' } } } as const;

/** Compatibility levels, registry-wide and per subject. */
export function registerConfigRoutes(app: FastifyInstance, service: RegistryService): void {
  app.get(
    '/config',
    { schema: { querystring: query('defaultToGlobal'), response: { 200: LEVEL, ...errors() } } },
    async () => ({ compatibilityLevel: await service.config(null) }),
  );
  /** Sets the level a request names; a request that names none changes nothing, as at Confluent. */
  const update = async (
    subject: string | null,
    request: { body: ConfigUpdate | undefined; principal: Principal | null },
  ): Promise<{ compatibility?: CompatibilityLevel }> => {
    const level = levelOf(request.body);
    if (level !== undefined)
      return { compatibility: await service.setConfig(subject, level, principal(request)) };
    if (subject === null) service.assertOperator(principal(request));
    else service.assertMayWrite(principal(request), subject);
    return {};
  };
  app.put<{ Body: ConfigUpdate | undefined }>(
    '/config',
    {
      schema: {
        body: LEVEL_BODY,
        response: {
          200: LEVEL_UPDATE,
          ...errors(
            ...WRITE_ERRORS,
            'INVALID_COMPATIBILITY_LEVEL',
            'INVALID_RULESET',
            'OPERATION_NOT_PERMITTED',
          ),
        },
      },
    },
    async (request) => update(null, request),
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
  app.put<{ Params: SubjectParams; Body: ConfigUpdate | undefined }>(
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
            'INVALID_RULESET',
            'OPERATION_NOT_PERMITTED',
          ),
        },
      },
    },
    async (request) => update(request.params.subject, request),
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

/**
 * The level a config update names, in any letter case, as Confluent's `CompatibilityLevel.forName`;
 * `undefined` when it names none. Rule sets and metadata, which this registry cannot apply, are refused.
 */
function levelOf(request: ConfigUpdate | undefined): CompatibilityLevel | undefined {
  const update = body({ body: request });
  if (isSet(update.defaultRuleSet) || isSet(update.overrideRuleSet)) {
    throw new RegistryError('INVALID_RULESET', 'Rule sets are not supported by this registry', {
      issues: [{ path: 'body.defaultRuleSet', message: 'rule sets are not supported' }],
    });
  }
  if (isSet(update.defaultMetadata) || isSet(update.overrideMetadata)) {
    throw new RegistryError('OPERATION_NOT_PERMITTED', 'Schema metadata is not supported by this registry', {
      issues: [{ path: 'body.defaultMetadata', message: 'metadata is not supported' }],
    });
  }
  if (update.compatibility === undefined || update.compatibility === null) return undefined;
  const named = update.compatibility.toUpperCase();
  if (isCompatibilityLevel(named)) return named;
  throw new RegistryError(
    'INVALID_COMPATIBILITY_LEVEL',
    `Invalid compatibility level. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
    {
      issues: [{ path: 'body.compatibility', message: `must be one of ${COMPATIBILITY_LEVELS.join(', ')}` }],
    },
  );
}

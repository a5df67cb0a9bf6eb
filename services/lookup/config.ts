import { createPublicKey, type KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { type Static, type TOptional, type TString, Type } from '@sinclair/typebox';
import {
  ClockEnv,
  HttpEnv,
  KafkaEnv,
  loadConfig,
  LogEnv,
  MongoEnv,
  SchemaRegistryClientEnv,
  SchemaRegistryEnv,
} from '../platform/config';
import { ConfigError } from '../platform/errors';
import { readPrivateKey } from './dev-keys';
import { issuerUrlProblem } from './jwks-keys';
import {
  type ClaimMapping,
  DEFAULT_TOKEN_IAT_SKEW_MS,
  DEFAULT_TOKEN_MAX_LIFETIME_MS,
  loadTokenKeys,
  TOKEN_ALGORITHMS,
  type TokenAlgorithm,
} from './tokens';

/** The lookup service's default port, after the sharing service's 8095. */
export const LOOKUP_PORT = 8096;

/** The reviewed policy file in this repository. */
export const DEFAULT_POLICY_FILE = path.resolve(__dirname, 'field-policies.json');

const positive = (name: string, fallback: number, max: number, unit: string) =>
  Type.Integer({
    minimum: 1,
    maximum: max,
    default: fallback,
    hint: `${name} must be from 1 to ${max} ${unit}`,
  });

/**
 * The variables that say where an OpenID Connect issuer's tokens carry a role and an agency, under
 * a prefix (`LOOKUP_OIDC`, `CONSOLE_OIDC`): the console and the lookup service read the same claims.
 */
export function claimMappingEnv<P extends string>(prefix: P) {
  return Type.Object({
    [`${prefix}_ROLE_CLAIM`]: Type.String({
      minLength: 1,
      pattern: '^[^.\\s]+(\\.[^.\\s]+)*$',
      default: 'role',
      hint: `${prefix}_ROLE_CLAIM must be a claim name or a dot path such as realm_access.roles`,
    }),
    [`${prefix}_ROLE_VALUES`]: Type.Optional(
      Type.String({
        minLength: 2,
        hint: `${prefix}_ROLE_VALUES must be a JSON object of the issuer's role names to officer, auditor, citizen or operator`,
      }),
    ),
    [`${prefix}_AGENCY_CLAIM`]: Type.String({
      minLength: 1,
      pattern: '^[^.\\s]+(\\.[^.\\s]+)*$',
      default: 'agency',
      hint: `${prefix}_AGENCY_CLAIM must be a claim name or a dot path`,
    }),
  } as { [K in `${P}_ROLE_CLAIM` | `${P}_AGENCY_CLAIM`]: TString } & {
    [K in `${P}_ROLE_VALUES`]: TOptional<TString>;
  });
}

/** The bus roles an issuer's role names may map to. */
const MAPPED_ROLES = ['officer', 'auditor', 'citizen', 'operator'];

/**
 * The claim mapping those variables describe.
 *
 * @throws ConfigError naming `<prefix>_ROLE_VALUES` when it is not an object of known roles
 */
export function claimMappingOf(config: Readonly<Record<string, unknown>>, prefix: string): ClaimMapping {
  const variable = `${prefix}_ROLE_VALUES`;
  const raw = config[variable];
  let roles: Record<string, string> | undefined;
  if (typeof raw === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const valid =
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((role) => MAPPED_ROLES.includes(role as string));
    if (!valid)
      throw new ConfigError([
        {
          variable,
          message: `${variable} must be a JSON object of the issuer's role names to ${MAPPED_ROLES.join(', ')}`,
        },
      ]);
    roles = parsed as Record<string, string>;
  }
  return {
    role: String(config[`${prefix}_ROLE_CLAIM`]),
    agency: String(config[`${prefix}_AGENCY_CLAIM`]),
    ...(roles ? { roles } : {}),
  };
}

export const LookupEnv = Type.Object({
  ...KafkaEnv.properties,
  ...MongoEnv.properties,
  ...SchemaRegistryEnv.properties,
  ...SchemaRegistryClientEnv.properties,
  ...LogEnv.properties,
  ...ClockEnv.properties,
  HOST: HttpEnv.properties.HOST,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: LOOKUP_PORT,
    hint: 'PORT must be an integer from 0 to 65535',
  }),
  LOOKUP_POLICY_FILE: Type.String({
    minLength: 1,
    default: DEFAULT_POLICY_FILE,
    hint: 'LOOKUP_POLICY_FILE must be the path of the field policy file',
  }),
  LOOKUP_JWT_KEYS_FILE: Type.String({
    minLength: 1,
    hint: 'LOOKUP_JWT_KEYS_FILE must be the path of the token public keys file',
  }),
  LOOKUP_JWT_ISSUER: Type.String({
    minLength: 1,
    default: 'lienthong-dev',
    hint: 'LOOKUP_JWT_ISSUER must be set',
  }),
  LOOKUP_JWT_AUDIENCE: Type.String({
    minLength: 1,
    default: 'lienthong-lookup',
    hint: 'LOOKUP_JWT_AUDIENCE must be set',
  }),
  LOOKUP_JWT_MAX_LIFETIME_MS: positive(
    'LOOKUP_JWT_MAX_LIFETIME_MS',
    DEFAULT_TOKEN_MAX_LIFETIME_MS,
    7 * 86_400_000,
    'milliseconds',
  ),
  LOOKUP_JWT_IAT_SKEW_MS: positive(
    'LOOKUP_JWT_IAT_SKEW_MS',
    DEFAULT_TOKEN_IAT_SKEW_MS,
    3_600_000,
    'milliseconds',
  ),
  LOOKUP_OIDC_ISSUER: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s]+$',
      hint: 'LOOKUP_OIDC_ISSUER must be the URL of an OpenID Connect issuer, exactly as its tokens name it',
    }),
  ),
  LOOKUP_OIDC_AUDIENCE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: "LOOKUP_OIDC_AUDIENCE must be the audience the issuer's access tokens name for this service",
    }),
  ),
  LOOKUP_OIDC_ALGORITHMS: Type.String({
    pattern: `^(${TOKEN_ALGORITHMS.join('|')})(,(${TOKEN_ALGORITHMS.join('|')}))*$`,
    default: 'RS256,ES256,EdDSA',
    hint: `LOOKUP_OIDC_ALGORITHMS must be a comma-separated list of ${TOKEN_ALGORITHMS.join(', ')}`,
  }),
  LOOKUP_OIDC_JWKS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s]+$',
      hint: "LOOKUP_OIDC_JWKS_URL must be the URL of the issuer's key set",
    }),
  ),
  ...claimMappingEnv('LOOKUP_OIDC').properties,
  LOOKUP_AUDIT_SEAL_KEY_FILE: Type.String({
    minLength: 1,
    hint: 'LOOKUP_AUDIT_SEAL_KEY_FILE must be the path of the Ed25519 key that seals the audit trail',
  }),
  LOOKUP_AUDIT_TRUSTED_KEYS_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: 'LOOKUP_AUDIT_TRUSTED_KEYS_FILE must be the path of the earlier seal public keys file',
    }),
  ),
  LOOKUP_AUDIT_SEAL_EVERY_MS: positive('LOOKUP_AUDIT_SEAL_EVERY_MS', 10_000, 3_600_000, 'milliseconds'),
  LOOKUP_AUDIT_WRITE_TIMEOUT_MS: positive('LOOKUP_AUDIT_WRITE_TIMEOUT_MS', 2_000, 60_000, 'milliseconds'),
  LOOKUP_AUDIT_TOPIC: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,249}$',
    default: 'lookup.audit',
    hint: 'LOOKUP_AUDIT_TOPIC must be a Kafka topic name',
  }),
  LOOKUP_RATE_CLIENT_PER_MINUTE: positive('LOOKUP_RATE_CLIENT_PER_MINUTE', 6_000, 100_000_000, 'requests'),
  LOOKUP_RATE_OFFICER_PER_MINUTE: positive('LOOKUP_RATE_OFFICER_PER_MINUTE', 600, 10_000_000, 'requests'),
  LOOKUP_RATE_AGENCY_PER_MINUTE: positive('LOOKUP_RATE_AGENCY_PER_MINUTE', 30_000, 100_000_000, 'requests'),
  LOOKUP_PAGE_MAX: positive('LOOKUP_PAGE_MAX', 200, 10_000, 'records'),
  LOOKUP_REFUSAL_FLOOR_MS: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 50,
    hint: 'LOOKUP_REFUSAL_FLOOR_MS must be from 0 to 10000 milliseconds',
  }),
});

export type LookupConfig = Static<typeof LookupEnv>;

export function lookupConfig(env: NodeJS.ProcessEnv = process.env): Readonly<LookupConfig> {
  const config = loadConfig(LookupEnv, env);
  const problems = [
    ['LOOKUP_OIDC_ISSUER', config.LOOKUP_OIDC_ISSUER],
    ['LOOKUP_OIDC_JWKS_URL', config.LOOKUP_OIDC_JWKS_URL],
  ].flatMap(([variable, value]) => {
    const problem = value === undefined ? undefined : issuerUrlProblem(value);
    return problem ? [{ variable: variable as string, message: `${variable} ${problem}` }] : [];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.LOOKUP_OIDC_ISSUER !== undefined) claimMappingOf(config, 'LOOKUP_OIDC');
  return config;
}

/** The OpenID Connect issuer's settings, when one is configured. */
export function oidcIssuerOf(
  config: Readonly<LookupConfig>,
):
  | { issuer: string; audience: string; algorithms: TokenAlgorithm[]; jwksUrl?: string; claims: ClaimMapping }
  | undefined {
  if (config.LOOKUP_OIDC_ISSUER === undefined) return undefined;
  return {
    issuer: config.LOOKUP_OIDC_ISSUER,
    audience: config.LOOKUP_OIDC_AUDIENCE ?? config.LOOKUP_JWT_AUDIENCE,
    algorithms: config.LOOKUP_OIDC_ALGORITHMS.split(',') as TokenAlgorithm[],
    ...(config.LOOKUP_OIDC_JWKS_URL ? { jwksUrl: config.LOOKUP_OIDC_JWKS_URL } : {}),
    claims: claimMappingOf(config, 'LOOKUP_OIDC'),
  };
}

/**
 * The key that seals the audit trail and the earlier keys whose seals still verify. A rotation
 * is configuration only: the new private key goes in `LOOKUP_AUDIT_SEAL_KEY_FILE` and the old
 * public key in `LOOKUP_AUDIT_TRUSTED_KEYS_FILE` (`{ "keys": [{ "kid", "publicKey" }] }`, the token
 * keys' format); a seal whose key id is in neither is `seal-invalid`.
 *
 * @throws ConfigError naming the variable of a file that cannot be read
 */
export function auditSealKeys(
  config: Pick<LookupConfig, 'LOOKUP_AUDIT_SEAL_KEY_FILE' | 'LOOKUP_AUDIT_TRUSTED_KEYS_FILE'>,
): { sealKey: { privateKey: KeyObject; publicKey: KeyObject }; trustedSealKeys: KeyObject[] } {
  let privateKey: KeyObject;
  try {
    privateKey = readPrivateKey(config.LOOKUP_AUDIT_SEAL_KEY_FILE);
  } catch (err) {
    throw new ConfigError(
      [
        {
          variable: 'LOOKUP_AUDIT_SEAL_KEY_FILE',
          message: `LOOKUP_AUDIT_SEAL_KEY_FILE: ${config.LOOKUP_AUDIT_SEAL_KEY_FILE} is not a PEM private key`,
        },
      ],
      { cause: err },
    );
  }
  const trusted =
    config.LOOKUP_AUDIT_TRUSTED_KEYS_FILE === undefined
      ? []
      : [...loadTokenKeys(config.LOOKUP_AUDIT_TRUSTED_KEYS_FILE, 'LOOKUP_AUDIT_TRUSTED_KEYS_FILE').values()];
  return { sealKey: { privateKey, publicKey: createPublicKey(privateKey) }, trustedSealKeys: trusted };
}

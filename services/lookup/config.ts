import { createPublicKey, type KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
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
import { DEFAULT_TOKEN_IAT_SKEW_MS, DEFAULT_TOKEN_MAX_LIFETIME_MS, loadTokenKeys } from './tokens';

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
  return loadConfig(LookupEnv, env);
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

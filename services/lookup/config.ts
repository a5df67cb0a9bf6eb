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
  LOOKUP_AUDIT_SEAL_KEY_FILE: Type.String({
    minLength: 1,
    hint: 'LOOKUP_AUDIT_SEAL_KEY_FILE must be the path of the Ed25519 key that seals the audit trail',
  }),
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
});

export type LookupConfig = Static<typeof LookupEnv>;

export function lookupConfig(env: NodeJS.ProcessEnv = process.env): Readonly<LookupConfig> {
  return loadConfig(LookupEnv, env);
}

import { type Static, Type } from '@sinclair/typebox';
import {
  ClockEnv,
  HttpEnv,
  KafkaEnv,
  loadConfig,
  LogEnv,
  SchemaRegistryClientEnv,
  SchemaRegistryEnv,
} from '../../services/platform/config';
import { IMPORT_LEASE_MS } from './import-claims';
import { IMPORT_RETENTION_MS } from './imports';

/**
 * Producers of a connector, each with a batch in flight: the Java client's bound on requests in
 * flight with idempotence (`max.in.flight.requests.per.connection` ≤ 5) is the most.
 */
export const MAX_PRODUCERS = 5;
/** Two lanes of the six partitions each: measured best on 2 cores (README, bench:ingest). */
export const DEFAULT_PRODUCERS = 3;

/** Each connector's default port, so that the four can run side by side on one machine. */
export const CONNECTOR_PORTS = {
  dossier: 8091,
  tax: 8092,
  'business-registration': 8093,
  vehicle: 8094,
} as const;

export function connectorEnv(defaultPort: number, defaultSpoolDir: string) {
  return Type.Object({
    ...KafkaEnv.properties,
    ...SchemaRegistryEnv.properties,
    ...LogEnv.properties,
    ...ClockEnv.properties,
    HOST: HttpEnv.properties.HOST,
    PORT: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: defaultPort,
      hint: 'PORT must be an integer from 0 to 65535',
    }),
    ...SchemaRegistryClientEnv.properties,
    CONNECTOR_API_KEYS_FILE: Type.String({
      minLength: 1,
      hint: 'CONNECTOR_API_KEYS_FILE must name the JSON file of agency client ids and key hashes',
    }),
    CONNECTOR_SPOOL_DIR: Type.String({ minLength: 1, default: defaultSpoolDir }),
    CONNECTOR_TOPIC: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]{1,249}$',
        hint: "CONNECTOR_TOPIC must be a Kafka topic name: where to publish instead of the contract's topic",
      }),
    ),
    CONNECTOR_BODY_LIMIT: Type.Integer({
      minimum: 1_024,
      maximum: 64 * 1_048_576,
      default: 4 * 1_048_576,
      hint: 'CONNECTOR_BODY_LIMIT must be a byte count',
    }),
    CONNECTOR_MAX_RECORDS: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1_000,
      hint: 'CONNECTOR_MAX_RECORDS must be from 1 to 10000',
    }),
    // Batches in flight to Kafka at once, each through a producer of its own (publisher.ts).
    CONNECTOR_PRODUCERS: Type.Integer({
      minimum: 1,
      maximum: MAX_PRODUCERS,
      default: DEFAULT_PRODUCERS,
      hint: `CONNECTOR_PRODUCERS must be from 1 to ${MAX_PRODUCERS}`,
    }),
    CONNECTOR_TLS_CERT_FILE: Type.Optional(
      Type.String({ minLength: 1, hint: 'CONNECTOR_TLS_CERT_FILE must name a PEM certificate' }),
    ),
    CONNECTOR_TLS_KEY_FILE: Type.Optional(
      Type.String({ minLength: 1, hint: 'CONNECTOR_TLS_KEY_FILE must name a PEM key' }),
    ),
    CONNECTOR_TLS_CA_FILE: Type.Optional(
      Type.String({
        minLength: 1,
        hint: 'CONNECTOR_TLS_CA_FILE must name the PEM CA that signs agency client certificates',
      }),
    ),
    CONNECTOR_IMPORT_LIMIT: Type.Integer({
      minimum: 1_024,
      default: 4 * 1_073_741_824,
      hint: 'CONNECTOR_IMPORT_LIMIT must be a byte count',
    }),
    CONNECTOR_IMPORT_RETENTION_MS: Type.Integer({
      minimum: 0,
      maximum: 366 * 86_400_000,
      default: IMPORT_RETENTION_MS,
      hint: 'CONNECTOR_IMPORT_RETENTION_MS must be a whole number of milliseconds, at most a year',
    }),
    CONNECTOR_IMPORT_LEASE_MS: Type.Integer({
      minimum: 300,
      maximum: 3_600_000,
      default: IMPORT_LEASE_MS,
      hint: 'CONNECTOR_IMPORT_LEASE_MS must be from 300 to 3600000 milliseconds',
    }),
  });
}

export type ConnectorConfig = Static<ReturnType<typeof connectorEnv>>;

export function connectorConfig(
  defaultPort: number,
  defaultSpoolDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<ConnectorConfig> {
  return loadConfig(connectorEnv(defaultPort, defaultSpoolDir), env);
}

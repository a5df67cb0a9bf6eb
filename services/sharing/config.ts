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
import { DEFAULT_CACHE_BYTES } from './document-cache';
import { FENCE_LEASE_MS, REBUILD_STEPS } from './rebuild';

/** The sharing service's default port, next to the connectors' 8091-8094. */

/** The live consumer group; the ACLs grant the sharing principal every group this prefixes. */
export const DEFAULT_SHARING_GROUP = 'lienthong-sharing';
export const SHARING_PORT = 8095;

export const SharingEnv = Type.Object({
  ...KafkaEnv.properties,
  ...MongoEnv.properties,
  ...SchemaRegistryEnv.properties,
  ...LogEnv.properties,
  ...ClockEnv.properties,
  HOST: HttpEnv.properties.HOST,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: SHARING_PORT,
    hint: 'PORT must be an integer from 0 to 65535',
  }),
  ...SchemaRegistryClientEnv.properties,
  SHARING_GROUP_ID: Type.String({
    minLength: 1,
    default: DEFAULT_SHARING_GROUP,
    hint: 'SHARING_GROUP_ID must be a consumer group id',
  }),
  SHARING_TOPIC_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9._-]{0,100}$',
    default: '',
    hint: 'SHARING_TOPIC_PREFIX must be empty or a Kafka topic name prefix',
  }),
  SHARING_DEAD_LETTER_TOPIC: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,249}$',
    default: 'sharing.dead-letter',
    hint: 'SHARING_DEAD_LETTER_TOPIC must be a Kafka topic name',
  }),
  SHARING_CHANGES_TOPIC: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,249}$',
    default: 'sharing.changes',
    hint: 'SHARING_CHANGES_TOPIC must be a Kafka topic name',
  }),
  SHARING_MODE: Type.Union([Type.Literal('changes'), Type.Literal('direct')], {
    default: 'changes',
    hint: 'SHARING_MODE must be changes (through the changes topic, any number of instances) or direct (one instance)',
  }),
  SHARING_TRACE_FILE: Type.String({
    default: '',
    hint: 'SHARING_TRACE_FILE must be empty or a file path (tests only)',
  }),
  SHARING_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 500,
    hint: 'SHARING_BATCH_SIZE must be from 1 to 10000 events',
  }),
  SHARING_ROUND_TARGET_MS: Type.Integer({
    minimum: 100,
    maximum: 20_000,
    default: 2_000,
    hint: 'SHARING_ROUND_TARGET_MS must be from 100 to 20000 milliseconds',
  }),
  SHARING_UNKNOWN_SCHEMA_RETRY_MS: Type.Integer({
    minimum: 0,
    maximum: 86_400_000,
    default: 300_000,
    hint: 'SHARING_UNKNOWN_SCHEMA_RETRY_MS must be from 0 to 86400000 milliseconds',
  }),
  SHARING_CACHE_MIB: Type.Integer({
    minimum: 0,
    maximum: 4_096,
    default: DEFAULT_CACHE_BYTES / 1_048_576,
    hint: 'SHARING_CACHE_MIB must be from 0 to 4096 MiB of BSON',
  }),
  SHARING_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 6,
    hint: 'SHARING_CONCURRENCY must be from 1 to 64 partitions',
  }),
});

export type SharingConfig = Static<typeof SharingEnv>;

export function sharingConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SharingConfig> {
  return loadConfig(SharingEnv, env);
}

/**
 * The internal topic of changes the service routes through, or null when `SHARING_MODE=direct`
 * has it apply the domain events itself (one instance only). `npm start` waits on it too: the
 * domain topics are committed once their changes are sent, before those are applied.
 */
export function changesTopicOf(
  config: Pick<SharingConfig, 'SHARING_MODE' | 'SHARING_CHANGES_TOPIC'>,
): string | null {
  return config.SHARING_MODE === 'direct' ? null : config.SHARING_CHANGES_TOPIC;
}

/** {@link changesTopicOf} a service started with `env`, read with the service's own defaults. */
export function changesTopicOfEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  return changesTopicOf(loadConfig(Type.Pick(SharingEnv, ['SHARING_MODE', 'SHARING_CHANGES_TOPIC']), env));
}

const STEPS = Object.values(REBUILD_STEPS);

/** `npm run sharing:rebuild`: the service's settings, and two of its own. */
export const RebuildEnv = Type.Object({
  ...SharingEnv.properties,
  SHARING_REBUILD_FENCE_MS: Type.Integer({
    minimum: 1_000,
    maximum: 600_000,
    default: FENCE_LEASE_MS,
    hint: 'SHARING_REBUILD_FENCE_MS must be from 1000 to 600000 milliseconds',
  }),
  // For the crash tests only: the rebuild stops at this step and waits to be killed.
  SHARING_REBUILD_HALT_AT: Type.Union([Type.Literal(''), ...STEPS.map((s) => Type.Literal(s))], {
    default: '',
    hint: `SHARING_REBUILD_HALT_AT must be empty or one of ${STEPS.join(', ')}`,
  }),
});

export type RebuildConfig = Static<typeof RebuildEnv>;

export function rebuildConfig(env: NodeJS.ProcessEnv = process.env): Readonly<RebuildConfig> {
  return loadConfig(RebuildEnv, env);
}

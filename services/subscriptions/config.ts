import { join } from 'node:path';
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
import { AGREEMENTS_VARIABLE } from './agreement';
import { ENDPOINTS_VARIABLE } from './endpoints';
import { DEFAULT_SUBSCRIPTIONS_GROUP } from './derived-topics';

/** The agreements the bus runs with: reviewed like code, beside the service. */
export const DEFAULT_AGREEMENTS_FILE = join(__dirname, 'agreements.json');

/** The subscriptions service's default port, after the sharing service's 8095 and lookup's 8096. */
export const SUBSCRIPTIONS_PORT = 8098;

export const SubscriptionsEnv = Type.Object({
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
    default: SUBSCRIPTIONS_PORT,
    hint: 'PORT must be an integer from 0 to 65535',
  }),
  [AGREEMENTS_VARIABLE]: Type.String({
    minLength: 1,
    default: DEFAULT_AGREEMENTS_FILE,
    hint: `${AGREEMENTS_VARIABLE} must name the sharing agreements file`,
  }),
  /** The webhook subscriptions, with their secrets; none when unset. */
  [ENDPOINTS_VARIABLE]: Type.Optional(
    Type.String({ minLength: 1, hint: `${ENDPOINTS_VARIABLE} must name the webhook endpoints file` }),
  ),
  /** The API keys of the agency systems that read their deliveries (a credentials file). */
  SUBSCRIPTIONS_KEYS_FILE: Type.Optional(
    Type.String({ minLength: 1, hint: 'SUBSCRIPTIONS_KEYS_FILE must name a credentials file' }),
  ),
  SUBSCRIPTIONS_GROUP_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,200}$',
    default: DEFAULT_SUBSCRIPTIONS_GROUP,
    hint: 'SUBSCRIPTIONS_GROUP_PREFIX must be a consumer group name prefix',
  }),
  SUBSCRIPTIONS_TOPIC_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9._-]{0,100}$',
    default: '',
    hint: 'SUBSCRIPTIONS_TOPIC_PREFIX must be empty or a Kafka topic name prefix',
  }),
});

export type SubscriptionsConfig = Static<typeof SubscriptionsEnv>;

export function subscriptionsConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SubscriptionsConfig> {
  return loadConfig(SubscriptionsEnv, env);
}

import { type Static, Type } from '@sinclair/typebox';
import { HttpEnv, KafkaEnv, loadConfig, LogEnv } from '../platform/config';
import { COMPATIBILITY_LEVELS } from './compatibility';

export const RegistryEnv = Type.Object({
  ...KafkaEnv.properties,
  ...LogEnv.properties,
  HOST: HttpEnv.properties.HOST,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: 8081,
    hint: 'PORT must be an integer from 0 to 65535',
  }),
  SCHEMA_REGISTRY_TOPIC: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,249}$',
    default: '_schemas',
    hint: 'SCHEMA_REGISTRY_TOPIC must be a Kafka topic name',
  }),
  SCHEMA_REGISTRY_CREDENTIALS_FILE: Type.String({
    minLength: 1,
    hint: 'SCHEMA_REGISTRY_CREDENTIALS_FILE must name the JSON file of client ids and key hashes',
  }),
  SCHEMA_REGISTRY_BODY_LIMIT: Type.Integer({
    minimum: 1_024,
    maximum: 16 * 1_048_576,
    default: 262_144,
    hint: 'SCHEMA_REGISTRY_BODY_LIMIT must be a byte count from 1024 to 16777216',
  }),
  SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY: Type.Union(
    COMPATIBILITY_LEVELS.map((level) => Type.Literal(level)),
    {
      default: 'BACKWARD',
      hint: `SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY must be one of ${COMPATIBILITY_LEVELS.join(', ')}`,
    },
  ),
});
export type RegistryConfig = Static<typeof RegistryEnv>;

export function registryConfig(env: NodeJS.ProcessEnv = process.env): Readonly<RegistryConfig> {
  return loadConfig(RegistryEnv, env);
}

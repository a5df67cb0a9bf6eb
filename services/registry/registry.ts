import { type FastifyInstance } from 'fastify';
import { type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { createLifecycle, type Service } from '../platform/lifecycle';
import { topicReadiness } from '../platform/topic-policy';
import { buildRegistryApp } from './app';
import { type CompatibilityLevel } from './compatibility';
import { createAuthenticator, type CredentialEntry } from '../platform/credentials';
import { RegistryService } from './registry-service';
import { RegistryState } from './registry-state';
import { SchemaLog } from './schema-log';

export interface RegistryDeps {
  kafka: Kafka;
  logger: Logger;
  topic: string;
  credentials: readonly CredentialEntry[];
  declaredOwners: ReadonlyMap<string, string>;
  defaultLevel: CompatibilityLevel;
  bodyLimit: number;
  host: string;
  port: number;
}

export interface Registry extends Service {
  app: FastifyInstance;
  /** The URL it listens on, once started. */
  url(): string;
}

/**
 * The whole registry: its log, its rules and its HTTP API. Nothing happens until `start()`.
 *
 * Start: read the log to its end, then listen. Stop: close HTTP first (new requests get 503,
 * in-flight ones finish), then stop following the log and disconnect from Kafka.
 */
export async function createRegistry(deps: RegistryDeps): Promise<Registry> {
  const state = new RegistryState();
  const log = new SchemaLog({
    kafka: deps.kafka,
    topic: deps.topic,
    logger: deps.logger.child({ component: 'schema-log' }),
    apply: (key, value) => state.apply(key, value),
  });
  const service = new RegistryService({
    state,
    log,
    declaredOwners: deps.declaredOwners,
    defaultLevel: deps.defaultLevel,
  });
  let ready = false;
  const app = await buildRegistryApp({
    service,
    authenticate: createAuthenticator(deps.credentials),
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    ready: () => topicReadiness(ready, log.drift()),
    // Instances that share a log serve one registry, named after its topic.
    clusterIds: () => ({ kafka: log.clusterId(), registry: deps.topic }),
  });
  let url = '';
  const lifecycle = createLifecycle('registry', {
    async start() {
      await log.start();
      url = await app.listen({ host: deps.host, port: deps.port });
      ready = true;
    },
    async stop() {
      ready = false;
      await app.close();
      await log.stop();
    },
  });
  return { ...lifecycle, app, url: () => url };
}

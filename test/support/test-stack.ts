import { join } from 'node:path';
import { LocalRegistry } from '../../deploy/local/local-registry';
import { type Progress } from '../../deploy/local/provision';
import { LocalStack, stackConfig, type StackEndpoints } from '../../deploy/local/stack';
import { freePort, scratchDir } from './fixtures';

/** The stack the integration and e2e suites run against, and how to leave it as it was. */
export interface TestStack {
  endpoints: StackEndpoints;
  /** The development keys of a registry this provider runs; unset for an external registry. */
  registryKeysFile?: string;
  /** Where each endpoint came from, for the run's log. */
  source: Record<keyof StackEndpoints, 'external' | 'testcontainers' | 'local'>;
  /** Stops only what this provider started. */
  teardown(): Promise<void>;
}

const CONTAINER_IMAGES = { kafka: 'confluentinc/cp-kafka:7.9.0', mongodb: 'mongo:7.0' } as const;

/**
 * Picks the real infrastructure for a test run, in this order:
 * 1. endpoints given in the environment (`KAFKA_BROKERS`, `MONGODB_URI`);
 * 2. testcontainers, when `LIENTHONG_TESTCONTAINERS=true` and a container engine answers;
 * 3. the local stack of `deploy/local`, the same manager as `npm run stack:up`.
 * The schema registry is lienthong's own unless `SCHEMA_REGISTRY_URL` names another.
 */
export async function provideTestStack(env: NodeJS.ProcessEnv, progress: Progress): Promise<TestStack> {
  if (env.LIENTHONG_TESTCONTAINERS === 'true') {
    const containers = await startContainers(env, progress);
    if (containers) return containers;
  }
  const stack = new LocalStack(stackConfig(env), progress, env);
  const reports = await stack.up();
  const startedHere = new Set(reports.filter((r) => r.state === 'started').map((r) => r.name));
  return {
    endpoints: stack.endpoints,
    ...(stack.registry ? { registryKeysFile: stack.registry.keysFile } : {}),
    source: {
      KAFKA_BROKERS: stack.kafka ? 'local' : 'external',
      MONGODB_URI: stack.store ? 'local' : 'external',
      SCHEMA_REGISTRY_URL: stack.registry ? 'local' : 'external',
    },
    async teardown() {
      // LIENTHONG_KEEP_STACK leaves a stack this run started up, to make the next run quicker.
      if (env.LIENTHONG_KEEP_STACK === 'true') return;
      if (startedHere.size > 0) await stack.down([...startedHere]);
    },
  };
}

async function startContainers(env: NodeJS.ProcessEnv, progress: Progress): Promise<TestStack | undefined> {
  // Loaded only here: testcontainers probes for a Docker socket as soon as it is used.
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    progress(
      `testcontainers: no container engine answered (${(error as Error).message}); using the local stack`,
    );
    return undefined;
  }
  const stops: (() => Promise<unknown>)[] = [];
  const endpoints = {
    KAFKA_BROKERS: env.KAFKA_BROKERS ?? '',
    MONGODB_URI: env.MONGODB_URI ?? '',
    SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL ?? '',
  };
  if (!env.KAFKA_BROKERS) {
    progress(`testcontainers: starting ${CONTAINER_IMAGES.kafka}`);
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const kafka = await new KafkaContainer(CONTAINER_IMAGES.kafka).withKraft().start();
    stops.push(() => kafka.stop());
    endpoints.KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  }
  if (!env.MONGODB_URI) {
    progress(`testcontainers: starting ${CONTAINER_IMAGES.mongodb}`);
    const { MongoDBContainer } = await import('@testcontainers/mongodb');
    const mongo = await new MongoDBContainer(CONTAINER_IMAGES.mongodb).start();
    stops.push(() => mongo.stop());
    endpoints.MONGODB_URI = `${mongo.getConnectionString()}?directConnection=true`;
  }
  let registry: LocalRegistry | undefined;
  if (!env.SCHEMA_REGISTRY_URL) {
    // No container for the registry: lienthong's own runs here, on the container's Kafka.
    registry = new LocalRegistry({
      stateDir: join(scratchDir('registry').path, 'registry'),
      port: await freePort(),
      kafkaBrokers: endpoints.KAFKA_BROKERS,
      progress,
      env,
    });
    await registry.start();
    await registry.waitReady();
    const started = registry;
    stops.unshift(() => started.stop());
    endpoints.SCHEMA_REGISTRY_URL = registry.url;
  }
  return {
    endpoints,
    ...(registry ? { registryKeysFile: registry.keysFile } : {}),
    source: {
      KAFKA_BROKERS: env.KAFKA_BROKERS ? 'external' : 'testcontainers',
      MONGODB_URI: env.MONGODB_URI ? 'external' : 'testcontainers',
      SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL ? 'external' : 'local',
    },
    async teardown() {
      // The registry first: it reads from the Kafka container.
      for (const stop of stops) await stop();
    },
  };
}

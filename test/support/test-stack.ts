import { join } from 'node:path';
import { LocalRegistry } from '../../deploy/local/local-registry';
import { type Progress } from '../../deploy/local/provision';
import { LocalStack, stackConfig, type StackEndpoints } from '../../deploy/local/stack';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { freePort, scratchDir } from './fixtures';

/** The stack the integration and e2e suites run against, and how to leave it as it was. */
export interface TestStack {
  endpoints: StackEndpoints;
  /**
   * How tests reach Kafka beside `KAFKA_BROKERS`: the operator's security variables, and
   * `LIENTHONG_KAFKA_SECRETS_DIR` where every principal's password file is, for the services under
   * test; `KAFKA_SECURITY_PROTOCOL=PLAINTEXT` for a test container, which has no SCRAM users.
   */
  kafkaEnv: Record<string, string>;
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
  // The tests run the registry from its sources (deploy/local/service-entry.ts), not a build.
  const stack = new LocalStack(stackConfig({ LIENTHONG_RUN: 'source', ...env }), progress, env);
  const reports = await stack.up();
  const startedHere = new Set(reports.filter((r) => r.state === 'started').map((r) => r.name));
  return {
    endpoints: stack.endpoints,
    kafkaEnv: testKafkaEnv(stack),
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

/**
 * What a test or a benchmark needs, beside the endpoints, to reach the stack's Kafka: the operator's
 * security variables, and where every principal's password file is (see `test/support/kafka.ts`).
 */
export function testKafkaEnv(stack: LocalStack): Record<string, string> {
  const { KAFKA_BROKERS: _brokers, ...operator } = stack.kafkaEnv(OPERATOR_PRINCIPAL);
  if (!stack.kafka) return operator;
  return {
    ...operator,
    LIENTHONG_KAFKA_SECRETS_DIR: stack.kafka.security.secretsDir,
    // For the security test, which checks that clients cannot use it.
    LIENTHONG_KAFKA_CONTROLLER: stack.kafka.controllerEndpoint,
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
  // The container's listener is PLAINTEXT, without SCRAM users or an authorizer; an external
  // broker's security is the one given.
  const kafkaEnv: Record<string, string> = env.KAFKA_BROKERS
    ? Object.fromEntries(
        Object.entries(env).filter(
          (e): e is [string, string] => /^KAFKA_(SECURITY|SASL|SSL)_/.test(e[0]) && !!e[1],
        ),
      )
    : { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' };
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
      kafkaEnv: { KAFKA_BROKERS: endpoints.KAFKA_BROKERS, ...kafkaEnv },
      run: 'source',
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
    kafkaEnv,
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

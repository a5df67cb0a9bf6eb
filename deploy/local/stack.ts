import { join, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { ClockEnv, KafkaEnv, loadConfig, MongoEnv, SchemaRegistryEnv } from '../../services/platform/config';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { RegistryEnv } from '../../services/registry/config';
import { ConfigError } from '../../services/platform/errors';
import { DEFAULT_HEAP_MB, KAFKA_CLUSTER_SIZES, kafkaNodeAddresses, LocalKafkaCluster } from './kafka-cluster';
import { LocalFerretDb } from './local-ferretdb';
import { LocalRegistry } from './local-registry';
import { RUN_MODES } from './service-entry';
import { principalSecurityEnv } from './broker-security';
import { type Progress } from './provision';
import {
  busGrants,
  busPrincipals,
  busTopics,
  type KafkaConnection,
  reconcileAclsOn,
  reconcileTopicsOn,
  SERVICE_PRINCIPALS,
} from './topics';

const Port = (fallback: number, hint: string) =>
  Type.Integer({ minimum: 1, maximum: 65_535, default: fallback, hint });

/**
 * The local stack's settings. An endpoint given from outside (`KAFKA_BROKERS`, `MONGODB_URI`)
 * replaces the matching local component, which is then neither provisioned nor started.
 */
export const StackEnv = Type.Object({
  KAFKA_BROKERS: Type.Optional(KafkaEnv.properties.KAFKA_BROKERS),
  MONGODB_URI: Type.Optional(MongoEnv.properties.MONGODB_URI),
  SCHEMA_REGISTRY_URL: Type.Optional(SchemaRegistryEnv.properties.SCHEMA_REGISTRY_URL),
  /** One node, or a cluster of three (`npm run stack:up -- --brokers 3` sets it too). */
  LOCAL_KAFKA_BROKERS: Type.Union(
    KAFKA_CLUSTER_SIZES.map((size) => Type.Literal(size)),
    { default: 1, hint: 'LOCAL_KAFKA_BROKERS must be 1 or 3 (one node, or a cluster of three)' },
  ),
  // Node i (from 1) takes each port plus 2(i−1): see kafkaNodeAddresses.
  LOCAL_KAFKA_PORT: Port(9092, 'LOCAL_KAFKA_PORT must be a TCP port'),
  LOCAL_KAFKA_CONTROLLER_PORT: Port(9093, 'LOCAL_KAFKA_CONTROLLER_PORT must be a TCP port'),
  LOCAL_STORE_PORT: Port(27017, 'LOCAL_STORE_PORT must be a TCP port'),
  LOCAL_REGISTRY_PORT: Port(8081, 'LOCAL_REGISTRY_PORT must be a TCP port'),
  // Each node's; unset, 768 MiB for one node and 512 MiB each for three (DEFAULT_HEAP_MB).
  LOCAL_KAFKA_HEAP_MB: Type.Optional(
    Type.Integer({
      minimum: 256,
      maximum: 1024,
      hint: 'LOCAL_KAFKA_HEAP_MB must be a whole number of MiB from 256 to 1024',
    }),
  ),
  // The registry's state topic, which `stack:topics` checks with the others.
  SCHEMA_REGISTRY_TOPIC: RegistryEnv.properties.SCHEMA_REGISTRY_TOPIC,
  LIENTHONG_STATE_DIR: Type.String({ minLength: 1, default: resolve(__dirname, '..', '..', '.state') }),
  // How the registry and the bus's services run (service-entry.ts): the tests set `source`.
  LIENTHONG_RUN: Type.Union(
    RUN_MODES.map((mode) => Type.Literal(mode)),
    {
      default: 'compiled',
      hint: 'LIENTHONG_RUN must be compiled (node dist/…, built first if stale) or source (tsx)',
    },
  ),
  // `npm start` hands it on to the bus's processes, and mints its tokens and desk dossiers by it.
  ...ClockEnv.properties,
});
export type StackConfig = Static<typeof StackEnv>;

/**
 * Reads and validates the stack settings, naming every bad variable at once; the ports of a
 * cluster's nodes must not fall on one another.
 */
export function stackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const config = loadConfig(StackEnv, env);
  const ports = kafkaNodeAddresses(
    config.LOCAL_KAFKA_BROKERS,
    config.LOCAL_KAFKA_PORT,
    config.LOCAL_KAFKA_CONTROLLER_PORT,
  ).flatMap((n) => [n.port, n.controllerPort]);
  if (new Set(ports).size < ports.length || Math.max(...ports) > 65_535) {
    throw new ConfigError([
      {
        variable: 'LOCAL_KAFKA_CONTROLLER_PORT',
        message:
          `LOCAL_KAFKA_PORT and LOCAL_KAFKA_CONTROLLER_PORT give ${config.LOCAL_KAFKA_BROKERS} nodes ` +
          `the ports ${ports.join(', ')}, which must be distinct TCP ports (node i adds 2(i−1) to each)`,
      },
    ]);
  }
  return config;
}

export type ComponentState =
  'started' | 'already running' | 'running' | 'stopped' | 'not running' | 'external';

export interface ComponentReport {
  name: string;
  endpoint: string;
  state: ComponentState;
  pid?: number;
}

interface LocalComponent {
  readonly name: string;
  pid(): number | undefined;
  start(): Promise<'started' | 'already running'>;
  waitReady(): Promise<void>;
  stop(): Promise<boolean>;
}

/** The endpoints a service or a test connects to. */
export interface StackEndpoints {
  KAFKA_BROKERS: string;
  MONGODB_URI: string;
  SCHEMA_REGISTRY_URL: string;
}

/**
 * The real infrastructure on one machine, without containers: Kafka in KRaft mode, a
 * MongoDB-wire store and the schema registry, each run as a detached process whose pid file
 * lives in the state directory.
 */
export class LocalStack {
  readonly kafka?: LocalKafkaCluster;
  readonly store?: LocalFerretDb;
  readonly registry?: LocalRegistry;
  readonly endpoints: StackEndpoints;
  private readonly kafkaBrokers: string;

  constructor(
    readonly config: StackConfig,
    private readonly progress: Progress,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const state = config.LIENTHONG_STATE_DIR;
    if (!config.KAFKA_BROKERS) {
      this.kafka = new LocalKafkaCluster({
        stateDir: join(state, 'kafka'),
        size: config.LOCAL_KAFKA_BROKERS,
        port: config.LOCAL_KAFKA_PORT,
        controllerPort: config.LOCAL_KAFKA_CONTROLLER_PORT,
        heapMb: config.LOCAL_KAFKA_HEAP_MB ?? DEFAULT_HEAP_MB[config.LOCAL_KAFKA_BROKERS],
        // One CA, certificate and set of passwords for every node of either size.
        securityDir: join(state, 'kafka-security'),
        principals: busPrincipals(),
        progress,
        env,
      });
    }
    if (!config.MONGODB_URI) {
      this.store = new LocalFerretDb({
        stateDir: join(state, 'ferretdb'),
        port: config.LOCAL_STORE_PORT,
        progress,
        env,
      });
    }
    const kafkaBrokers = config.KAFKA_BROKERS ?? this.kafka?.endpoint ?? '';
    this.kafkaBrokers = kafkaBrokers;
    if (!config.SCHEMA_REGISTRY_URL) {
      this.registry = new LocalRegistry({
        stateDir: join(state, 'registry'),
        port: config.LOCAL_REGISTRY_PORT,
        kafkaEnv: this.kafkaEnv(SERVICE_PRINCIPALS.registry),
        run: config.LIENTHONG_RUN,
        progress,
        env,
      });
    }
    this.endpoints = {
      KAFKA_BROKERS: kafkaBrokers,
      MONGODB_URI: config.MONGODB_URI ?? this.store?.uri ?? '',
      SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL ?? this.registry?.url ?? '',
    };
  }

  /**
   * The `KAFKA_*` variables of a client that connects as `principal`. The local broker's are its
   * own (CA, password file); an external broker's are those this process was given, its
   * operator's to hand out ({@link principalSecurityEnv}).
   */
  kafkaEnv(principal: string): Record<string, string> {
    if (this.kafka) return this.kafka.clientEnv(principal);
    return { KAFKA_BROKERS: this.kafkaBrokers, ...principalSecurityEnv(this.env, principal) };
  }

  /** The brokers and security of a client in this process that connects as `principal`. */
  kafkaConnection(principal: string): KafkaConnection {
    return kafkaConnection(loadConfig(KafkaEnv, this.kafkaEnv(principal)));
  }

  /**
   * What the operator does on the local broker once it answers, before any service starts: the
   * SCRAM users that came after its storage was formatted, the declared topics with their
   * policy, and the declared ACLs. All idempotent, so every `up` runs them.
   */
  private async provisionKafka(kafka: LocalKafkaCluster): Promise<void> {
    await kafka.addMissingPrincipals();
    const operator = this.kafkaConnection(OPERATOR_PRINCIPAL);
    // Only what changed is worth a line; a topic already right says nothing.
    const report = (line: string) => {
      if (!/: ok \(/.test(line)) this.progress(`kafka: ${line}`);
    };
    const topics = await reconcileTopicsOn(operator, busTopics(this.config.SCHEMA_REGISTRY_TOPIC), {
      apply: true,
      progress: report,
    });
    if (topics.drifted > 0)
      throw new Error(`${topics.drifted} topic setting(s) could not be brought to the policy`);
    let created = 0;
    const missing = await reconcileAclsOn(operator, busGrants(this.config.SCHEMA_REGISTRY_TOPIC), {
      apply: true,
      progress: (line) => {
        if (line.endsWith(': created')) created += 1;
        else this.progress(`kafka: ${line}`);
      },
    });
    if (created > 0)
      this.progress(`kafka: ${created} ACL(s) created (npm run stack:acls -- --check lists them)`);
    if (missing > 0) throw new Error(`${missing} ACL(s) could not be created`);
  }

  /**
   * Starts what is not running yet and waits until every component answers, tier by tier:
   * Kafka's nodes and the store side by side (Maven and Go mostly wait on the network; a quorum
   * elects a leader only once most of its nodes run), then the registry, which keeps its state in
   * Kafka. Between the two, the local Kafka gets its users, topics and ACLs, once for all nodes.
   */
  async up(): Promise<ComponentReport[]> {
    this.kafka?.assertAlone();
    const states = new Map<LocalComponent, 'started' | 'already running'>();
    try {
      for (const tier of this.tiers()) {
        const starts = await Promise.allSettled(tier.map(async (component) => component.start()));
        starts.forEach((s, i) => {
          const component = tier[i];
          if (component && s.status === 'fulfilled') states.set(component, s.value);
        });
        const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        await Promise.all(tier.map((component) => component.waitReady()));
        if (this.kafka?.nodes.some((node) => tier.includes(node))) await this.provisionKafka(this.kafka);
      }
    } catch (error) {
      // Leave nothing half up that this call started.
      for (const [component, state] of [...states].reverse()) if (state === 'started') await component.stop();
      throw error;
    }
    return this.reports((component) => states.get(component) ?? 'running');
  }

  /**
   * Stops only the processes this stack started, in reverse order of dependence; with `names`
   * (`kafka`, `kafka-1`…, `store`, `registry`), only those, `kafka` naming every Kafka node.
   * Kafka's nodes stop side by side: one by one, the last would wait for a quorum already gone.
   * A Kafka of the other size left running from this state directory is stopped too.
   */
  async down(names?: readonly string[]): Promise<ComponentReport[]> {
    const stopped = new Map<LocalComponent, ComponentState>();
    const stop = async (component: LocalComponent): Promise<void> => {
      stopped.set(component, (await component.stop()) ? 'stopped' : 'not running');
    };
    const kafkaNodes = new Set<LocalComponent>(this.kafka?.nodes);
    const wanted = (component: LocalComponent): boolean =>
      !names || names.includes(component.name) || (kafkaNodes.has(component) && names.includes('kafka'));
    for (const tier of this.tiers().reverse()) {
      await Promise.all(tier.filter(wanted).map(stop));
    }
    const others = !names || names.includes('kafka') ? (this.kafka?.others() ?? []) : [];
    await Promise.all(others.map(stop));
    return [
      ...this.reports((component) => stopped.get(component) ?? 'not running'),
      ...others.map((node) => ({ name: node.name, endpoint: node.endpoint, state: 'stopped' as const })),
    ];
  }

  status(): ComponentReport[] {
    const state = (component: LocalComponent): ComponentState =>
      component.pid() === undefined ? 'not running' : 'running';
    // A Kafka of the other size still running is shown, so that it is not forgotten.
    const others = (this.kafka?.others() ?? []).map((node) => ({
      name: node.name,
      endpoint: node.endpoint,
      state: state(node),
      ...(node.pid() ? { pid: node.pid() } : {}),
    }));
    return [...this.reports(state), ...others];
  }

  /** The local components in start order, those of one tier started side by side. */
  private tiers(): LocalComponent[][] {
    const present = (components: (LocalComponent | undefined)[]) =>
      components.filter((c): c is LocalComponent => c !== undefined);
    return [present([...(this.kafka?.nodes ?? []), this.store]), present([this.registry])].filter(
      (tier) => tier.length > 0,
    );
  }

  /** One row per Kafka node, then the store and the registry. */
  private reports(stateOf: (component: LocalComponent) => ComponentState): ComponentReport[] {
    const report = (name: string, endpoint: string, component?: LocalComponent): ComponentReport => {
      if (!component) return { name, endpoint, state: 'external' };
      const pid = component.pid();
      return { name, endpoint, state: stateOf(component), ...(pid ? { pid } : {}) };
    };
    const kafka = this.kafka
      ? this.kafka.nodes.map((node) => report(node.name, node.endpoint, node))
      : [report('kafka', this.endpoints.KAFKA_BROKERS)];
    return [
      ...kafka,
      report('store', this.endpoints.MONGODB_URI, this.store),
      report('registry', this.endpoints.SCHEMA_REGISTRY_URL, this.registry),
    ];
  }
}

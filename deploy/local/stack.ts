import { join, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { ClockEnv, KafkaEnv, loadConfig, MongoEnv, SchemaRegistryEnv } from '../../services/platform/config';
import { RegistryEnv } from '../../services/registry/config';
import { LocalFerretDb } from './local-ferretdb';
import { LocalKafka } from './local-kafka';
import { LocalRegistry } from './local-registry';
import { type Progress } from './provision';

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
  LOCAL_KAFKA_PORT: Port(9092, 'LOCAL_KAFKA_PORT must be a TCP port'),
  LOCAL_KAFKA_CONTROLLER_PORT: Port(9093, 'LOCAL_KAFKA_CONTROLLER_PORT must be a TCP port'),
  LOCAL_STORE_PORT: Port(27017, 'LOCAL_STORE_PORT must be a TCP port'),
  LOCAL_REGISTRY_PORT: Port(8081, 'LOCAL_REGISTRY_PORT must be a TCP port'),
  LOCAL_KAFKA_HEAP_MB: Type.Integer({
    minimum: 256,
    maximum: 1024,
    default: 768,
    hint: 'LOCAL_KAFKA_HEAP_MB must be a whole number of MiB from 256 to 1024',
  }),
  // The registry's state topic, which `stack:topics` checks with the others.
  SCHEMA_REGISTRY_TOPIC: RegistryEnv.properties.SCHEMA_REGISTRY_TOPIC,
  LIENTHONG_STATE_DIR: Type.String({ minLength: 1, default: resolve(__dirname, '..', '..', '.state') }),
  // `npm start` hands it on to the bus's processes, and mints its tokens and desk dossiers by it.
  ...ClockEnv.properties,
});
export type StackConfig = Static<typeof StackEnv>;

/** Reads and validates the stack settings, naming every bad variable at once. */
export function stackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  return loadConfig(StackEnv, env);
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
  readonly kafka?: LocalKafka;
  readonly store?: LocalFerretDb;
  readonly registry?: LocalRegistry;
  readonly endpoints: StackEndpoints;

  constructor(
    readonly config: StackConfig,
    progress: Progress,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const state = config.LIENTHONG_STATE_DIR;
    if (!config.KAFKA_BROKERS) {
      this.kafka = new LocalKafka({
        stateDir: join(state, 'kafka'),
        port: config.LOCAL_KAFKA_PORT,
        controllerPort: config.LOCAL_KAFKA_CONTROLLER_PORT,
        heapMb: config.LOCAL_KAFKA_HEAP_MB,
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
    if (!config.SCHEMA_REGISTRY_URL) {
      this.registry = new LocalRegistry({
        stateDir: join(state, 'registry'),
        port: config.LOCAL_REGISTRY_PORT,
        kafkaBrokers,
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
   * Starts what is not running yet and waits until every component answers, tier by tier:
   * Kafka and the store side by side (Maven and Go mostly wait on the network), then the
   * registry, which keeps its state in Kafka.
   */
  async up(): Promise<ComponentReport[]> {
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
   * (`kafka`, `store`, `registry`), only those.
   */
  async down(names?: readonly string[]): Promise<ComponentReport[]> {
    const stopped = new Map<LocalComponent, ComponentState>();
    const named = new Map<LocalComponent | undefined, string>([
      [this.kafka, 'kafka'],
      [this.store, 'store'],
      [this.registry, 'registry'],
    ]);
    for (const component of this.tiers().flat().reverse()) {
      if (names && !names.includes(named.get(component) ?? '')) continue;
      stopped.set(component, (await component.stop()) ? 'stopped' : 'not running');
    }
    return this.reports((component) => stopped.get(component) ?? 'not running');
  }

  status(): ComponentReport[] {
    return this.reports((component) => (component.pid() === undefined ? 'not running' : 'running'));
  }

  /** The local components in start order, those of one tier started side by side. */
  private tiers(): LocalComponent[][] {
    const present = (components: (LocalComponent | undefined)[]) =>
      components.filter((c): c is LocalComponent => c !== undefined);
    return [present([this.kafka, this.store]), present([this.registry])].filter((tier) => tier.length > 0);
  }

  private reports(stateOf: (component: LocalComponent) => ComponentState): ComponentReport[] {
    const report = (name: string, endpoint: string, component?: LocalComponent): ComponentReport => {
      if (!component) return { name, endpoint, state: 'external' };
      const pid = component.pid();
      return { name, endpoint, state: stateOf(component), ...(pid ? { pid } : {}) };
    };
    return [
      report('kafka', this.endpoints.KAFKA_BROKERS, this.kafka),
      report('store', this.endpoints.MONGODB_URI, this.store),
      report('registry', this.endpoints.SCHEMA_REGISTRY_URL, this.registry),
    ];
  }
}

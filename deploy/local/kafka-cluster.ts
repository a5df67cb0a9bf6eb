import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import { kafkaConnection, type KafkaSecurity } from '../../services/platform/kafka-security';
import { brokerSecurityFiles, type BrokerSecurityFiles, clientSecurityEnv } from './broker-security';
import { type KafkaNodeAddress, kraftClusterId, LocalKafka } from './local-kafka';
import { type Progress } from './provision';

/**
 * The sizes a local cluster may have: one node, or three, the smallest quorum that survives the
 * loss of a node. Two would survive nothing, and more do not fit two cores.
 */
export const KAFKA_CLUSTER_SIZES = [1, 3] as const;
export type KafkaClusterSize = (typeof KAFKA_CLUSTER_SIZES)[number];

/** Each node's heap when `LOCAL_KAFKA_HEAP_MB` is not set: three small JVMs share two cores. */
export const DEFAULT_HEAP_MB: Record<KafkaClusterSize, number> = { 1: 768, 3: 512 };

/**
 * The nodes' ports: node i (from 1) listens on `port + 2(i−1)` and its controller on
 * `controllerPort + 2(i−1)`, so that the defaults 9092/9093 give 9092/9093, 9094/9095 and
 * 9096/9097, and a single node keeps the ports it always had.
 */
export function kafkaNodeAddresses(
  size: KafkaClusterSize,
  port: number,
  controllerPort: number,
): KafkaNodeAddress[] {
  return Array.from({ length: size }, (_, i) => ({
    nodeId: i + 1,
    port: port + 2 * i,
    controllerPort: controllerPort + 2 * i,
  }));
}

/**
 * A node's state directory. A single node keeps the layout it always had, `<state>/kafka`; the
 * nodes of a cluster of three have one each, `<state>/kafka/node-<id>`, beside it, so that
 * neither cluster's data is touched when the other is run.
 */
export function kafkaNodeDir(kafkaDir: string, size: KafkaClusterSize, nodeId: number): string {
  return size === 1 ? kafkaDir : join(kafkaDir, `node-${nodeId}`);
}

export interface LocalKafkaClusterOptions {
  /** `<state>/kafka`: the single node's directory, and the parent of a larger cluster's. */
  stateDir: string;
  size: KafkaClusterSize;
  port: number;
  controllerPort: number;
  /** Each node's heap. */
  heapMb: number;
  /**
   * The CA, node certificate and passwords, one set for every node: the certificate names
   * 127.0.0.1, so it serves any node's ports, and each node knows the others as `User:broker`.
   */
  securityDir: string;
  /** Every SCRAM user the bus needs. */
  principals: readonly string[];
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/**
 * The local Kafka: one node, or three combined broker-and-controller nodes forming a KRaft
 * quorum of three. Each node is a {@link LocalKafka} of its own, started, stopped and reported
 * one by one; the cluster gives them their ports, their directories, one cluster id and one set
 * of jars.
 */
export class LocalKafkaCluster {
  readonly nodes: LocalKafka[];
  /** Every node's broker listener, comma-separated, as `KAFKA_BROKERS` takes them. */
  readonly endpoint: string;
  private clusterIdMemo?: string;
  private jarsMemo?: Promise<string>;

  constructor(private readonly options: LocalKafkaClusterOptions) {
    this.nodes = this.layout(options.size);
    this.endpoint = this.nodes.map((n) => n.endpoint).join(',');
  }

  /** The node with this KRaft id. */
  node(nodeId: number): LocalKafka {
    const node = this.nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new Error(`the local cluster has no node ${nodeId}`);
    return node;
  }

  /** The security material's paths, the same for every node. */
  get security(): BrokerSecurityFiles {
    return brokerSecurityFiles(this.options.securityDir);
  }

  /** The first node's controller listener (mutual TLS), which clients must not be able to use. */
  get controllerEndpoint(): string {
    return this.nodes[0]?.controllerEndpoint ?? '';
  }

  /** `KAFKA_*` variables for a client connecting as `principal`, bootstrapped from every node. */
  clientEnv(principal: string): Record<string, string> {
    return { KAFKA_BROKERS: this.endpoint, ...clientSecurityEnv(this.security, principal) };
  }

  /** The brokers and security a client in this process connects as `principal` with. */
  connection(principal: string): { brokers: string[]; security: KafkaSecurity } {
    return kafkaConnection(loadConfig(KafkaEnv, this.clientEnv(principal)));
  }

  /**
   * Adds the SCRAM credentials declared since the storage was formatted, node by node, each
   * after its own record. The credentials live in the cluster's one metadata log, so the nodes
   * after the first only set them again (a new salt, the same password); this happens only when
   * the bus declares a new principal.
   */
  async addMissingPrincipals(): Promise<string[]> {
    const added = new Set<string>();
    for (const node of this.nodes) for (const p of await node.addMissingPrincipals()) added.add(p);
    return [...added];
  }

  /** The first node's pid, which names the Kafka release it runs. */
  pid(): number | undefined {
    return this.nodes[0]?.pid();
  }

  /**
   * The nodes of the other size's layout in the same state directory that are running: they hold
   * the same ports, so `stack:down` stops them and `up` refuses to start beside them.
   */
  others(): LocalKafka[] {
    return KAFKA_CLUSTER_SIZES.filter((size) => size !== this.options.size)
      .flatMap((size) => this.layout(size))
      .filter((node) => node.pid() !== undefined);
  }

  /** Throws, naming the way out, when a cluster of the other size runs from this state directory. */
  assertAlone(): void {
    const others = this.others();
    if (others.length === 0) return;
    const size = KAFKA_CLUSTER_SIZES.find((s) => s !== this.options.size);
    throw new Error(
      `a ${size}-node Kafka (${others.map((n) => n.name).join(', ')}) runs from ${this.options.stateDir}: ` +
        `stop it with \`npm run stack:down\`, or use it with LOCAL_KAFKA_BROKERS=${size}`,
    );
  }

  private layout(size: KafkaClusterSize): LocalKafka[] {
    const { stateDir, port, controllerPort, heapMb, securityDir, principals, progress, env } = this.options;
    const quorum = kafkaNodeAddresses(size, port, controllerPort);
    return quorum.map((address) => {
      const options = {
        stateDir: kafkaNodeDir(stateDir, size, address.nodeId),
        port: address.port,
        controllerPort: address.controllerPort,
        heapMb,
        securityDir,
        principals,
        progress,
        ...(env ? { env } : {}),
      };
      if (size === 1) return new LocalKafka(options);
      return new LocalKafka({
        ...options,
        member: {
          name: `kafka-${address.nodeId}`,
          nodeId: address.nodeId,
          quorum,
          clusterId: () => this.clusterId(),
          // One Maven run on a first start, not one per node.
          jars: () => (this.jarsMemo ??= this.nodes[0]?.provision() ?? Promise.reject(new Error('no node'))),
        },
      });
    });
  }

  /**
   * The id every node is formatted with: the one a formatted node already holds (so that a node
   * whose directory was lost rejoins its cluster), or a new one for a new cluster.
   */
  private clusterId(): string {
    if (this.clusterIdMemo) return this.clusterIdMemo;
    for (const node of kafkaNodeAddresses(this.options.size, 0, 0)) {
      const meta = join(kafkaNodeDir(this.options.stateDir, this.options.size, node.nodeId), 'data');
      const found = readClusterId(join(meta, 'meta.properties'));
      if (found) return (this.clusterIdMemo = found);
    }
    return (this.clusterIdMemo = kraftClusterId());
  }
}

function readClusterId(metaProperties: string): string | undefined {
  try {
    return /^cluster\.id=(.+)$/m.exec(readFileSync(metaProperties, 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

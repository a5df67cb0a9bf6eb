import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import {
  kafkaConnection,
  type KafkaSecurity,
  kafkajsSecurityOptions,
} from '../../services/platform/kafka-security';
import { replicationPolicy } from '../../services/platform/topic-policy';
import {
  BENCH_PLAINTEXT_LISTENER,
  brokerSecurityFiles,
  brokerSecurityProperties,
  type BrokerSecurityFiles,
  clientSecurityEnv,
  CLIENT_LISTENER,
  ensureBrokerSecurity,
  javaClientProperties,
  readPassword,
  SCRAM_MECHANISM,
  scramFormatArguments,
  writeArgfile,
} from './broker-security';
import { ManagedProcess } from './managed-process';
import { cacheRoot, ensureArtifact, type Progress, runWithProgress } from './provision';
import { waitUntilReady } from './readiness';
import { requireTool } from './tools';

/** The Kafka release the local stack runs; the pom's default is kept in step with it. */
export const KAFKA_VERSION = '3.9.2';

const POM = resolve(__dirname, 'kafka', 'pom.xml');

/** The nodes' own listener, on mutual TLS; the clients' is {@link CLIENT_LISTENER}. */
export const CONTROLLER_LISTENER = 'CONTROLLER';

/** Where one node of a local cluster listens, and its KRaft node id. */
export interface KafkaNodeAddress {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** The name clients and the other nodes reach it by; `127.0.0.1` on the local stack. */
  host?: string;
}

export interface LocalKafkaOptions {
  /** Holds this broker's configuration, data, logs and pid file. */
  stateDir: string;
  port: number;
  controllerPort: number;
  /** Broker heap, capped at 1024 MiB by the stack config. */
  heapMb: number;
  /** The CA, node certificate and passwords ({@link ensureBrokerSecurity}), shared by every node. */
  securityDir: string;
  /** Every SCRAM user the bus needs; the broker's own is added. */
  principals: readonly string[];
  progress: Progress;
  env?: NodeJS.ProcessEnv;
  /**
   * The node's place in a cluster of several ({@link LocalKafkaCluster}): its name in reports, its
   * id, every node of the quorum, the cluster id all of them are formatted with, and the jars
   * resolved once for all. Absent, the node is a cluster of one, node 1, named `kafka`.
   */
  member?: {
    name: string;
    nodeId: number;
    quorum: readonly KafkaNodeAddress[];
    clusterId: () => string;
    jars: () => Promise<string>;
  };
  /**
   * Benchmark only: a PLAINTEXT listener on this loopback port besides SASL_SSL
   * ({@link BENCH_PLAINTEXT_LISTENER}), for `npm run bench:security`. The stack never sets it.
   */
  benchPlaintextPort?: number;
}

/**
 * One Apache Kafka node in KRaft mode (broker and controller in one JVM) on 127.0.0.1,
 * run from jars that Maven resolves from Maven Central into the shared cache.
 */
export class LocalKafka {
  readonly name: string;
  readonly nodeId: number;
  readonly endpoint: string;
  /** The controller listener: mutual TLS, for the nodes only. */
  readonly controllerEndpoint: string;
  private readonly process: ManagedProcess;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: LocalKafkaOptions) {
    this.name = options.member?.name ?? 'kafka';
    this.nodeId = options.member?.nodeId ?? 1;
    this.endpoint = `127.0.0.1:${options.port}`;
    this.controllerEndpoint = `127.0.0.1:${options.controllerPort}`;
    this.env = options.env ?? process.env;
    this.process = new ManagedProcess(this.name, join(options.stateDir, 'kafka.pid'), options.stateDir);
  }

  /** The nodes of this node's controller quorum, itself included. */
  get quorum(): readonly KafkaNodeAddress[] {
    const { port, controllerPort } = this.options;
    return this.options.member?.quorum ?? [{ nodeId: 1, port, controllerPort }];
  }

  /** The jars, resolved once per Kafka version and machine. */
  async provision(): Promise<string> {
    requireTool('java', this.env);
    const libs = join(cacheRoot(this.env), `kafka-${KAFKA_VERSION}`);
    if (existsSync(libs)) return libs;
    requireTool('mvn', this.env);
    const { progress } = this.options;
    progress(`kafka: resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)`);
    let downloaded = 0;
    await ensureArtifact(libs, (scratch) =>
      runWithProgress(
        'mvn',
        [
          '-B',
          '-f',
          POM,
          'dependency:copy-dependencies',
          `-Dkafka.version=${KAFKA_VERSION}`,
          '-DincludeScope=runtime',
          `-DoutputDirectory=${scratch}`,
        ],
        {
          env: this.env,
          label: 'kafka: maven',
          progress,
          onLine: (line) => {
            if (!/Downloaded from/.test(line)) return undefined;
            downloaded += 1;
            return downloaded % 10 === 0 ? `kafka: ${downloaded} artifacts downloaded` : undefined;
          },
        },
      ),
    );
    progress(`kafka: jars cached in ${libs}`);
    return libs;
  }

  pid(): number | undefined {
    return this.process.pid();
  }

  /** The security material's paths; {@link start} makes what is missing. */
  get security(): BrokerSecurityFiles {
    return brokerSecurityFiles(this.options.securityDir);
  }

  /** `KAFKA_*` variables for a client connecting as `principal`. */
  clientEnv(principal: string): Record<string, string> {
    return { KAFKA_BROKERS: this.endpoint, ...clientSecurityEnv(this.security, principal) };
  }

  /** The brokers and security a client in this process connects as `principal` with. */
  connection(principal: string): { brokers: string[]; security: KafkaSecurity } {
    return kafkaConnection(loadConfig(KafkaEnv, this.clientEnv(principal)));
  }

  /** Starts the broker unless it runs already, formatting its storage on first start. */
  async start(): Promise<'started' | 'already running'> {
    if (this.pid() !== undefined) return 'already running';
    const { stateDir } = this.options;
    const dataDir = join(stateDir, 'data');
    const formatted = existsSync(join(dataDir, 'meta.properties'));
    if (formatted && !existsSync(this.scramUsersFile)) throw new PlaintextStateError(stateDir);
    const libs = await (this.options.member?.jars() ?? this.provision());
    // Synchronous: the nodes of a cluster, started side by side, make the shared material once.
    const security = ensureBrokerSecurity(
      this.options.securityDir,
      this.options.principals,
      this.options.progress,
      this.env,
    );
    const logDir = join(stateDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const serverProperties = join(stateDir, 'server.properties');
    const log4jProperties = join(stateDir, 'log4j.properties');
    // It holds the broker's SCRAM password.
    writeFileSync(serverProperties, this.serverProperties(dataDir, security), { mode: 0o600 });
    chmodSync(serverProperties, 0o600);
    writeFileSync(log4jProperties, log4jConfig(logDir));
    const classpath = ['-cp', join(libs, '*'), `-Dlog4j.configuration=file:${log4jProperties}`];

    // KRaft refuses to start on unformatted storage; meta.properties marks a formatted one.
    if (!formatted) {
      // Every node of a cluster gets the credentials: each votes on the metadata log from its start.
      this.options.progress(
        `${this.name}: formatting storage in ${dataDir}, with the principals' SCRAM credentials`,
      );
      const argfile = join(stateDir, 'format.args');
      writeArgfile(argfile, [
        'kafka.tools.StorageTool',
        'format',
        // One argument: an id may begin with '-', which would read as an option.
        `--cluster-id=${this.options.member?.clusterId() ?? kraftClusterId()}`,
        '--config',
        serverProperties,
        '--ignore-formatted',
        ...scramFormatArguments(security, this.options.principals),
      ]);
      // Before the format: a format cut short is run again, never taken for a plaintext state.
      this.writeScramUsers(this.options.principals);
      try {
        await runWithProgress('java', [...classpath, `@${argfile}`], {
          env: this.env,
          label: `${this.name}: format`,
          progress: this.options.progress,
        });
      } finally {
        rmSync(argfile, { force: true });
      }
    }

    const heap = this.options.heapMb;
    this.process.start(
      'java',
      [
        `-Xmx${heap}m`,
        `-Xms${Math.min(heap, 256)}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        ...classpath,
        'kafka.Kafka',
        serverProperties,
      ],
      join(logDir, 'stdout.log'),
      this.env,
    );
    return 'started';
  }

  /**
   * Ready when a metadata request answers, to the operator, through the broker listener and names
   * every node of the quorum: a topic created before then would get fewer replicas than the policy
   * wants.
   */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const kafka = new Kafka({
      clientId: 'lienthong-stack',
      brokers: [this.endpoint],
      logLevel: logLevel.NOTHING,
      ...kafkajsSecurityOptions(this.connection(OPERATOR_PRINCIPAL).security),
      connectionTimeout: 1_000,
      retry: { retries: 0 },
    });
    await waitUntilReady(
      `Kafka at ${this.endpoint}`,
      async () => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          const { brokers } = await admin.describeCluster();
          if (brokers.length < this.quorum.length)
            throw new Error(`${brokers.length} of ${this.quorum.length} brokers have joined`);
        } finally {
          await admin.disconnect();
        }
      },
      { timeoutMs, isAlive: () => this.pid() !== undefined },
    );
  }

  stop(): Promise<boolean> {
    // A controlled shutdown moves leadership and flushes logs; 30 s covers it on a busy machine.
    return this.process.stop(30_000);
  }

  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  /**
   * Adds the SCRAM credentials of principals that came after the storage was formatted (a newer
   * version of the bus declares one more), through Kafka's own admin tool as the operator.
   */
  async addMissingPrincipals(): Promise<string[]> {
    const known = new Set(this.readScramUsers());
    const missing = this.options.principals.filter((p) => !known.has(p));
    if (missing.length === 0) return [];
    const libs = await this.provision();
    // A principal new since the broker started has no password yet.
    const security = ensureBrokerSecurity(
      this.options.securityDir,
      this.options.principals,
      this.options.progress,
      this.env,
    );
    const commandConfig = join(this.options.stateDir, 'operator.properties');
    const argfile = join(this.options.stateDir, 'scram.args');
    writeFileSync(commandConfig, javaClientProperties(security, OPERATOR_PRINCIPAL), { mode: 0o600 });
    try {
      for (const principal of missing) {
        this.options.progress(`${this.name}: adding the SCRAM credential of ${principal}`);
        writeArgfile(argfile, [
          'kafka.admin.ConfigCommand',
          '--bootstrap-server',
          this.endpoint,
          '--command-config',
          commandConfig,
          '--alter',
          '--entity-type',
          'users',
          '--entity-name',
          principal,
          '--add-config',
          `${SCRAM_MECHANISM}=[password=${readPassword(security, principal)}]`,
        ]);
        await runWithProgress('java', ['-cp', join(libs, '*'), `@${argfile}`], {
          env: this.env,
          label: `${this.name}: scram`,
          progress: this.options.progress,
        });
      }
    } finally {
      rmSync(argfile, { force: true });
      rmSync(commandConfig, { force: true });
    }
    this.writeScramUsers([...known, ...missing]);
    return missing;
  }

  /** The principals whose SCRAM credentials this node's metadata log holds. */
  private get scramUsersFile(): string {
    return join(this.options.stateDir, 'scram-users.json');
  }

  private readScramUsers(): string[] {
    return JSON.parse(readFileSync(this.scramUsersFile, 'utf8')) as string[];
  }

  private writeScramUsers(principals: readonly string[]): void {
    writeFileSync(this.scramUsersFile, JSON.stringify([...new Set(principals)].sort(), null, 2));
  }

  private serverProperties(dataDir: string, security: BrokerSecurityFiles): string {
    const { port, controllerPort, benchPlaintextPort } = this.options;
    const bench = benchPlaintextPort === undefined ? undefined : BENCH_PLAINTEXT_LISTENER;
    return kafkaServerProperties({
      nodeId: this.nodeId,
      port,
      controllerPort,
      dataDir,
      quorum: this.quorum,
      security: brokerSecurityProperties(security, CONTROLLER_LISTENER, bench),
      ...(benchPlaintextPort === undefined ? {} : { benchPlaintextPort }),
    });
  }
}

/** What one node's `server.properties` is made of. */
export interface KafkaNodeSettings extends KafkaNodeAddress {
  dataDir: string;
  /** Every node of the cluster, this one included; each is broker and controller. */
  quorum: readonly KafkaNodeAddress[];
  /** The SASL_SSL, mutual TLS and authorizer lines ({@link brokerSecurityProperties}). */
  security: readonly string[];
  /** Benchmark only: the extra PLAINTEXT listener's port ({@link LocalKafkaOptions}). */
  benchPlaintextPort?: number;
  /** The address the listeners bind to: `host` by default; `0.0.0.0` in a container. */
  bindHost?: string;
  /** The file's first line, a comment saying what writes it. */
  header?: string;
}

/**
 * A node's `server.properties`: its role and place in the quorum, its listeners, and the
 * replication its cluster's size allows. Pure, so that each part is tested line by line.
 */
export function kafkaServerProperties(node: KafkaNodeSettings): string {
  return [
    node.header ?? '# Written by deploy/local at every start; edit local-kafka.ts instead.',
    ...quorumProperties(node),
    ...listenerProperties(node),
    ...node.security,
    `log.dirs=${node.dataDir}`,
    ...replicationProperties(node.quorum.length),
    // Topics are part of the contract and are created on purpose, never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    // Fewer internal partitions make the first consumer group start in seconds on two cores.
    'offsets.topic.num.partitions=10',
    'transaction.state.log.num.partitions=5',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/**
 * Combined nodes: every node is a broker and a voter of the controller quorum, so that a cluster
 * of three keeps its metadata and its partitions with any one node down.
 *
 * @see https://kafka.apache.org/39/documentation.html#kraft_role
 */
function quorumProperties(node: KafkaNodeSettings): string[] {
  const voters = node.quorum.map((n) => `${n.nodeId}@${hostOf(n)}:${n.controllerPort}`).join(',');
  return ['process.roles=broker,controller', `node.id=${node.nodeId}`, `controller.quorum.voters=${voters}`];
}

function hostOf(node: KafkaNodeAddress): string {
  return node.host ?? '127.0.0.1';
}

function listenerProperties(node: KafkaNodeSettings): string[] {
  const { port, controllerPort, benchPlaintextPort } = node;
  const host = hostOf(node);
  const bind = node.bindHost ?? host;
  const bench =
    benchPlaintextPort === undefined ? '' : `,${BENCH_PLAINTEXT_LISTENER}://${host}:${benchPlaintextPort}`;
  return [
    `listeners=${CLIENT_LISTENER}://${bind}:${port},${CONTROLLER_LISTENER}://${bind}:${controllerPort}${bench}`,
    `advertised.listeners=${CLIENT_LISTENER}://${host}:${port}${bench}`,
    `controller.listener.names=${CONTROLLER_LISTENER}`,
  ];
}

/**
 * The internal topics (consumer offsets, transactions) and any topic made without the policy are
 * replicated as the topic policy replicates domain topics: as many copies as the cluster allows,
 * up to three, and a write acknowledged by all but one.
 */
function replicationProperties(brokers: number): string[] {
  const { replicationFactor, configs } = replicationPolicy(brokers);
  const minIsr = configs['min.insync.replicas'];
  return [
    `offsets.topic.replication.factor=${replicationFactor}`,
    `transaction.state.log.replication.factor=${replicationFactor}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `default.replication.factor=${replicationFactor}`,
    `min.insync.replicas=${minIsr}`,
  ];
}

/**
 * A broker state formatted by a version of lienthong without security: its metadata log holds no
 * SCRAM credential, so no client could log in. Its topics hold local data only.
 */
export class PlaintextStateError extends Error {
  override name = 'PlaintextStateError';

  constructor(stateDir: string) {
    // The local store's views point at offsets of the old log: they go with it.
    const store = join(dirname(stateDir), 'ferretdb');
    super(
      `the Kafka state in ${stateDir} was made by a version without SASL_SSL and holds no SCRAM users. ` +
        `It holds local data only: remove it, and the local store's views that point into it, then start again: ` +
        `npm run stack:down && rm -rf '${stateDir}' '${store}' && npm run stack:up`,
    );
  }
}

/** A KRaft cluster id: 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` makes. */
export function kraftClusterId(): string {
  return randomBytes(16).toString('base64url');
}

function log4jConfig(logDir: string): string {
  return [
    'log4j.rootLogger=INFO, server',
    'log4j.appender.server=org.apache.log4j.RollingFileAppender',
    `log4j.appender.server.File=${join(logDir, 'server.log')}`,
    'log4j.appender.server.MaxFileSize=10MB',
    'log4j.appender.server.MaxBackupIndex=3',
    'log4j.appender.server.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // Per-request and log-cleaner chatter would bury what matters.
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.kafka.log.LogCleaner=WARN',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
}

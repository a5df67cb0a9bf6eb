import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { type ISocketFactory, type Kafka, type Message, type Producer } from 'kafkajs';
import { type Db, MongoClient } from 'mongodb';
import { createAvroEncoder, type AvroEncoder } from '../../connectors/runtime/avro-encoder';
import { type LienthongEvent } from '../../schemas/generated/events';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { sharingGrants } from '../../services/platform/acl-policy';
import { createProducer } from '../../services/platform/kafka';
import { deadLetterTopicDeclaration } from '../../services/sharing/dead-letters';
import { changesTopicDeclaration, sharingGroups } from '../../services/sharing/changes';
import { REBUILD_GROUP_PREFIX, type RebuildReport, rebuildViews } from '../../services/sharing/rebuild';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { createLogger } from '../../services/platform/logger';
import { createMongoClient } from '../../services/platform/mongo';
import { VIEW_NAMES, type ViewDoc, type ViewName } from '../../services/sharing/projection';
import {
  createSharingService,
  type SharingDeps,
  type SharingService,
} from '../../services/sharing/sharing-service';
import { collectionHashes, compareHashes, type HashComparison } from '../../services/sharing/view-hash';
import { registryClient, registryKey } from './connector';
import { endpoint, stopped, uniqueName, until } from './fixtures';
import { grantAcls, kafkaEnvOf, testKafka } from './kafka';

/**
 * A sharing service of a test file's own: its own four domain topics, dead-letter topic,
 * consumer group and database, on the shared broker, store and registry.
 */
export function sharingHarness(
  options: {
    partitions?: number;
    batchSize?: number;
    /** Dependencies of the service in this process to replace, such as its projections or store client. */
    service?: Partial<SharingDeps>;
    /** Routes the service's Kafka connections (not the harness's own), through a proxy for instance. */
    socketFactory?: ISocketFactory;
    sendTimeoutMs?: number;
    /** Partitions of the internal topic of changes; the bus's own number by default. */
    changesPartitions?: number;
    /** Whether the services this harness starts in its process route through the changes topic. */
    routed?: boolean;
  } = {},
) {
  const suffix = uniqueName('it-sharing');
  const topicPrefix = `${suffix}-`;
  const topics = Object.fromEntries(
    TOPIC_NAMES.map((t) => [t, `${topicPrefix}${TOPICS[t].topic}`]),
  ) as Record<TopicName, string>;
  const deadLetterTopic = `${suffix}-dead-letter`;
  // The internal topic of changes, for a service given it (processes of main.ts always are).
  const changesTopic = `${suffix}-changes`;
  const dbName = suffix.replace(/-/g, '_');
  const groupId = `${suffix}-group`;
  // Silent unless a run is being diagnosed: TEST_LOG_LEVEL=debug shows the service's own log.
  const logger = createLogger({ name: 'it-sharing', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // The test publishes and inspects as the operator; the service runs as its own principal.
  const kafka: Kafka = testKafka('it-sharing', { logger });
  const serviceKafka: Kafka = testKafka('it-sharing-service', {
    principal: SERVICE_PRINCIPALS.sharing,
    logger,
    // Routes the service's Kafka connections (not the harness's own), through a proxy for instance.
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
  const producer: Producer = createProducer(kafka);
  const encoders = new Map<TopicName, AvroEncoder>();
  const reader = new MongoClient(endpoint('MONGODB_URI'));
  let service: SharingService | undefined;
  const children = new Set<ChildProcess>();

  const build = (into: { dbName: string; groupId: string }, routed: boolean): SharingService =>
    createSharingService({
      kafka: serviceKafka,
      mongo: createMongoClient({ uri: endpoint('MONGODB_URI'), appName: 'it-sharing', logger }),
      dbName: into.dbName,
      registry: registryClient(),
      logger,
      groupId: into.groupId,
      topics,
      deadLetterTopic,
      batchSize: options.batchSize ?? 200,
      concurrency: 6,
      host: '127.0.0.1',
      port: 0,
      ...(routed ? { changesTopic } : {}),
      ...options.service,
      ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
    });

  /** The settings of a sharing process on this harness's topics, writing into `into`. */
  const serviceEnv = (into = { dbName, groupId }): Record<string, string> => ({
    ...kafkaEnvOf(SERVICE_PRINCIPALS.sharing),
    MONGODB_DB: into.dbName,
    SHARING_GROUP_ID: into.groupId,
    SHARING_TOPIC_PREFIX: topicPrefix,
    SHARING_DEAD_LETTER_TOPIC: deadLetterTopic,
    SHARING_CHANGES_TOPIC: changesTopic,
    SHARING_BATCH_SIZE: String(options.batchSize ?? 200),
    SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
    SCHEMA_REGISTRY_KEY: registryKey('lienthong-reader'),
  });

  /** A sharing entry point as a process of its own, on this harness's topics, that a test can kill. */
  const spawnChild = (
    entry: string,
    env: Record<string, string>,
    args: readonly string[] = [],
    stdout: 'inherit' | 'pipe' = 'inherit',
  ): ChildProcess => {
    const child = spawn(
      process.execPath,
      // tsx as a loader in the same process: its CLI would run the service in a child that a kill misses.
      ['--import', 'tsx', join(ROOT, 'services', 'sharing', entry), ...args],
      {
        env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...serviceEnv(), ...env },
        cwd: ROOT,
        stdio: ['ignore', stdout, 'inherit'],
      },
    );
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  const encoderOf = (topic: TopicName): AvroEncoder => {
    const encoder = encoders.get(topic);
    if (!encoder) throw new Error('Call setUp() before publishing');
    return encoder;
  };

  const harness = {
    topics,
    topicPrefix,
    groupId,
    deadLetterTopic,
    changesTopic,
    dbName,
    kafka,
    serviceKafka,
    serviceEnv,
    db: (): Db => reader.db(dbName),
    client: (): MongoClient => reader,

    async setUp(): Promise<void> {
      const admin = kafka.admin();
      await admin.connect();
      await ensurePolicyTopics(admin, [
        ...TOPIC_NAMES.map((t) => ({
          topic: topics[t],
          kind: 'domain' as const,
          numPartitions: options.partitions ?? 3,
        })),
        deadLetterTopicDeclaration(deadLetterTopic),
        changesTopicDeclaration(changesTopic, options.changesPartitions),
      ]);
      await admin.disconnect();
      // Its groups all begin with this test's suffix, but for the rebuild's.
      await grantAcls(
        sharingGrants(SERVICE_PRINCIPALS.sharing, {
          domainTopics: Object.values(topics),
          deadLetterTopic,
          changesTopic,
          groupPrefixes: [suffix, REBUILD_GROUP_PREFIX],
        }),
      );
      await producer.connect();
      await reader.connect();
      for (const t of TOPIC_NAMES) {
        const encoder = createAvroEncoder({ registry: registryClient(), subject: TOPICS[t].valueSubject });
        await encoder.start();
        encoders.set(t, encoder);
      }
    },

    /**
     * Starts the service in this process; a replay into another database takes its own group, and
     * applies the events directly (the changes topic is the harness's own group's).
     */
    async start(into = { dbName, groupId }): Promise<SharingService> {
      service = build(into, options.routed === true && into.groupId === groupId);
      await service.start();
      return service;
    },

    service(): SharingService {
      if (!service) throw new Error('The sharing service is not started');
      return service;
    },

    async stop(): Promise<void> {
      await service?.stop();
      service = undefined;
    },

    /**
     * Runs `services/sharing/main.ts` as a process of its own on this harness's topics, so that a
     * test can kill it. It logs at `LOG_LEVEL` (warn by default) to the test's output.
     */
    spawnProcess(into = { dbName, groupId }, port = 0, env: Record<string, string> = {}): ChildProcess {
      return spawnChild('main.ts', { ...serviceEnv(into), PORT: String(port), ...env });
    },

    /**
     * Runs `services/sharing/rebuild-main.ts` on this harness's topics and database, beside the
     * live service of `groupId`; its output is piped, for the test to read the steps from.
     */
    spawnRebuild(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
      return spawnChild('rebuild-main.ts', env, args, 'pipe');
    },

    /**
     * How many messages of the four topics `group` has committed, and of the internal topic of
     * changes its changes group, and how many there are: a service that routes through the changes
     * has applied everything only once both are committed. The changes count for the harness's own
     * group only, unless `withChanges` says: a clean replay into another group applies directly.
     */
    async progress(
      group = groupId,
      withChanges = group === groupId,
    ): Promise<{ committed: number; total: number }> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        let committed = 0;
        let total = 0;
        for (const read of sharingGroups(group, Object.values(topics), withChanges ? changesTopic : null)) {
          for (const topic of read.topics) {
            for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
          }
          for (const { partitions } of await admin.fetchOffsets(read)) {
            for (const p of partitions) committed += Math.max(0, Number(p.offset));
          }
        }
        return { committed, total };
      } finally {
        await admin.disconnect();
      }
    },

    /** Whether `group` has committed every message there is (see {@link progress}). */
    async drained(group = groupId): Promise<boolean> {
      const { committed, total } = await harness.progress(group);
      return committed === total;
    },

    /**
     * Replays every topic into a database and a group of their own (`<db>_<name>`,
     * `<group>-<name>`), applying the events directly, until the group has committed them all;
     * the caller drops that database.
     */
    async cleanReplay(
      name: string,
      timeoutMs: number,
    ): Promise<{ dbName: string; groupId: string; applied: number }> {
      const clean = { dbName: `${dbName}_${name}`, groupId: `${groupId}-${name}` };
      const replay = await harness.start(clean);
      try {
        await until('the clean replay', () => harness.drained(clean.groupId), timeoutMs);
      } finally {
        await harness.stop();
      }
      return { ...clean, applied: replay.stats().applied };
    },

    /**
     * The views of the harness's database that differ from the same views in `otherDb`, document
     * by document, by hash, or that are empty there; none when all are equal. The ids, at most
     * five of each kind, name the documents to look at.
     */
    async viewDifferences(otherDb: string): Promise<(HashComparison & { view: ViewName })[]> {
      const out: (HashComparison & { view: ViewName })[] = [];
      for (const view of VIEW_NAMES) {
        const diff = compareHashes(
          await collectionHashes(reader.db(dbName), view),
          await collectionHashes(reader.db(otherDb), view),
        );
        if (diff.onlyLeft.length + diff.onlyRight.length + diff.different.length > 0 || diff.right === 0)
          out.push({
            view,
            ...diff,
            onlyLeft: diff.onlyLeft.slice(0, 5),
            onlyRight: diff.onlyRight.slice(0, 5),
            different: diff.different.slice(0, 5),
          });
      }
      return out;
    },

    /** The live views against a clean replay of every topic, by hash: a dry-run rebuild. */
    dryRunReplay(loggerName: string): Promise<RebuildReport> {
      return rebuildViews({
        kafka,
        mongo: reader,
        dbName,
        registry: registryClient(),
        logger: createLogger({ name: loggerName, level: 'silent' }),
        topics,
        liveGroupId: groupId,
        dryRun: true,
        progress: () => undefined,
      });
    },

    async tearDown(): Promise<void> {
      await Promise.all([...children].map((child) => stopped(child)));
      await harness.stop();
      await producer.disconnect();
      await reader
        .db(dbName)
        .dropDatabase()
        .catch(() => undefined);
      await reader.close();
    },

    /**
     * Encodes with the registry's latest schema and publishes, keyed, with a traceparent, in
     * batches of `chunk`; one entity's events keep their order.
     */
    async publish(
      items: readonly { topic: TopicName; key: string; event: LienthongEvent; raw?: Buffer }[],
      chunk = 1_000,
    ): Promise<void> {
      for (let i = 0; i < items.length; i += chunk) {
        const byTopic = new Map<string, Message[]>();
        for (const { topic, key, event, raw } of items.slice(i, i + chunk)) {
          const messages = byTopic.get(topics[topic]) ?? [];
          messages.push({
            key,
            value: raw ?? encoderOf(topic).encode(event),
            headers: { traceparent: traceparentFor(event.eventId) },
          });
          byTopic.set(topics[topic], messages);
        }
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      }
    },

    /** Publishes raw bytes, as a broken producer would. */
    async publishRaw(topic: TopicName, key: string, value: Buffer): Promise<void> {
      await producer.send({ topic: topics[topic], acks: -1, messages: [{ key, value }] });
    },

    encode(topic: TopicName, event: unknown): Buffer {
      return encoderOf(topic).encode(event);
    },

    async view(view: ViewName, id: string): Promise<ViewDoc | null> {
      return reader.db(dbName).collection<ViewDoc>(view).findOne({ _id: id });
    },

    /** Every document of every view, sorted, without the one field a replay changes. */
    async snapshot(): Promise<Record<ViewName, unknown[]>> {
      const out = {} as Record<ViewName, unknown[]>;
      for (const view of VIEW_NAMES) {
        const docs = await reader.db(dbName).collection<ViewDoc>(view).find({}).toArray();
        out[view] = docs.sort((a, b) => (a._id < b._id ? -1 : 1)).map((d) => withoutIngestedAt(d));
      }
      return out;
    },

    /** Waits until the service has taken `count` events in total (applied, no-op or dead). */
    async waitForEvents(
      count: number,
      timeoutMs = 60_000,
      onProgress?: (seen: number) => void,
    ): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = harness.service().stats();
        const seen = s.applied + s.noop + s.deadLettered;
        onProgress?.(seen);
        if (seen >= count) return;
        if (Date.now() > deadline) throw new Error(`the service took ${seen} of ${count} events`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return harness;
}

/** What differs between the live views and a dry-run rebuild's replay, a line a view; none when equal. */
export function replayDifferences(report: RebuildReport): string[] {
  return VIEW_NAMES.flatMap((view) => {
    const c = report.comparison[view];
    return c.onlyLeft.length + c.onlyRight.length + c.different.length > 0 || c.left === 0
      ? [
          `view ${view}: ${c.left} live, ${c.right} replayed; only live ${c.onlyLeft.length}, only replayed ${c.onlyRight.length}, different ${c.different.length}`,
        ]
      : [];
  });
}

const ROOT = resolve(__dirname, '..', '..');

/** A deterministic traceparent per event, so a test can check the trace id in provenance. */
export function traceparentFor(eventId: string): string {
  const hex = eventId.replace(/-/g, '');
  return `00-${hex}-${hex.slice(0, 16)}-01`;
}

function withoutIngestedAt(value: unknown): unknown {
  if (value instanceof Date || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(withoutIngestedAt);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'ingestedAt') out[k] = withoutIngestedAt(v);
  return out;
}

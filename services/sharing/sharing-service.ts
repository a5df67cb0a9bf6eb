import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { context, propagation, type Span, trace } from '@opentelemetry/api';
import { type FastifyInstance } from 'fastify';
import {
  type Batch,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Message,
  type TopicPartitionOffsetAndMetadata,
} from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import { type LienthongEvent } from '../../schemas/generated/events';
import { TOPICS, type TopicName } from '../../schemas/topics';
import { type Clock, systemClock } from '../platform/clock';
import { ERROR_CODES, isRetriable } from '../platform/errors';
import { answerRequestError, createHttpServer, registerOperations, routeNotFound } from '../platform/http';
import { registerOpenApi } from '../platform/openapi';
import { ACKS_ALL, createRenewingProducer, partitionKey, setUpTopics } from '../platform/kafka';
import { createKeyPartitioner } from '../platform/key-partitioner';
import {
  checkTopics,
  describeDrift,
  ensurePolicyTopics,
  type TopicDeclaration,
  type TopicDrift,
  topicReadiness,
} from '../platform/topic-policy';
import { createLifecycle, type Service } from '../platform/lifecycle';
import { traceIdOf } from '../platform/trace-context';
import {
  type DeadLetter,
  DEAD_LETTER_TOPIC,
  deadLetterTopicDeclaration,
  sendDeadLetters,
} from './dead-letters';
import { createEventDecoder, type DecodeOptions, PoisonMessageError } from './event-decoder';
import { createApplyQueue } from './apply-queue';
import { createDocumentCache, DEFAULT_CACHE_BYTES } from './document-cache';
import { createRoundPacer } from './round-pacer';
import {
  byView,
  directTargets,
  type EventOutcome,
  materialize,
  materializeChanges,
  type RoundStage,
  type SourcedChange,
  type StageTimer,
  subjectsOf,
  timedStage,
} from './materializer';
import {
  type Change,
  changeMessage,
  changesTopicDeclaration,
  documentKey,
  documentOfKey,
  homeDocument,
  MalformedChangeError,
  readChange,
  type SharingGroup,
  sharingGroups,
} from './changes';
import { MembershipLapsedError, membershipLease } from './membership-lease';
import {
  type Projection,
  type Provenance,
  sectionsOf,
  type SourcedEvent,
  sourcedEvent,
  type ViewDoc,
  type ViewName,
} from './projection';
import { writableCollectionsReader } from './view-catalog';
import { createViewStore, type ViewStore } from './view-store';

export interface SharingDeps {
  kafka: Kafka;
  /** Not connected yet: the service connects it in `start()` and closes it in `stop()`. */
  mongo: MongoClient;
  dbName: string;
  registry: SchemaRegistry;
  logger: Logger;
  groupId: string;
  /** The Kafka topic of each contract; the contract's own names by default. Tests give their own. */
  topics?: Partial<Record<TopicName, string>>;
  /**
   * Where dead letters go; `null` counts them without writing, for a rebuild replaying messages
   * the live service has already dead-lettered.
   */
  deadLetterTopic?: string | null;
  /**
   * The collections to write, fixed (a rebuild's replay); by default the view catalog says, read at
   * the start of a round, so that a rebuild's swap takes effect without a restart, and a rebuild's
   * fence holds the round back until the handover is done (`writableCollectionsReader`).
   */
  collections?: Readonly<Record<ViewName, string>>;
  /**
   * How long a reading of the catalog that showed no fence serves the rounds, ms;
   * `CATALOG_READING_MS` by default. A rebuild must wait as long after its fence: tests that
   * change it give the rebuild the same.
   */
  catalogReadingMs?: number;
  /**
   * The internal topic through which the events are re-keyed by view document, so that each
   * document has one writer across every instance of the group (see `changes.ts`); `null`, the
   * default, applies the domain topics' events directly, as one process alone may (a rebuild's
   * replay, a single instance).
   */
  changesTopic?: string | null;
  /**
   * Tests only: told each view write command once acknowledged and each chunk committed, to show
   * which member wrote which document when, and when a partition was taken over.
   */
  trace?: (entry: SharingTraceEntry) => void;
  /** Told every view document written, once acknowledged: a rebuild's account of its replay. */
  onViewsWritten?: (view: ViewName, docs: readonly ViewDoc[]) => void;
  /** Whether `start()` connects and `stop()` closes `mongo`; true unless the caller shares it. */
  ownsMongo?: boolean;
  /**
   * The most events a partition's chunk takes; offsets are committed after each chunk. Chunks are
   * smaller when the store is slow, so that a round lasts about `roundTargetMs`.
   */
  batchSize: number;
  /**
   * How long a writer round should last: the consumer answers a rebalance only between chunks.
   * {@link DEFAULT_ROUND_TARGET_MS} by default.
   */
  roundTargetMs?: number;
  /** Partitions processed at once; their events are applied together, by one writer. */
  concurrency: number;
  host: string;
  port: number;
  /** The sections' `ingestedAt` and the dead letters' failure time; the system clock by default. */
  clock?: Clock;
  /** The views' projections; every view's by default. Tests give one that fails. */
  projections?: readonly Projection[];
  /** The largest view document written, in bytes of BSON; MongoDB's 16 MiB by default. */
  maxDocumentBytes?: number;
  /**
   * BSON bytes of view documents this writer keeps to spare reading them back
   * ({@link createDocumentCache}); {@link DEFAULT_CACHE_BYTES} by default, 0 for none.
   */
  cacheBytes?: number;
  /**
   * How long a schema id the registry answers 404 for is retried, with backoff, before its messages
   * are dead-lettered `SCHEMA_UNKNOWN`; 5 minutes by default (`UNKNOWN_SCHEMA_RETRY_MS`).
   */
  unknownSchemaRetryMs?: number;
  /**
   * How long a dead-letter send may take before it is given up and sent again through a new
   * producer (`createRenewingProducer`); its default when not given.
   */
  sendTimeoutMs?: number;
}

/** What `trace` is told. Times are epoch milliseconds. */
export type SharingTraceEntry =
  | {
      kind: 'write';
      collection: string;
      ids: readonly string[];
      /** For each document, the version of each source record it holds (see `heldVersions`). */
      versions: readonly Record<string, number>[];
      sentAt: number;
      at: number;
    }
  | {
      /**
       * A writer round: when its oldest submission was made, when it began, when it ended, and
       * its milliseconds in each of its parts.
       */
      kind: 'round';
      oldestAt: number;
      startedAt: number;
      at: number;
      stages: Partial<Record<RoundStage, number>>;
    }
  | {
      /**
       * Changes Kafka acknowledged on the changes topic: routed by the first stage, or a round's
       * dependents. `keys` are their documents' (`documentKey`). When the first stage took their
       * chunk in hand (`from: 'route'`), when they were submitted to the sends, when the request
       * that carried them left (after the one in flight before it) and when Kafka acknowledged it.
       */
      kind: 'send';
      from: 'route' | 'round';
      keys: readonly string[];
      chunkAt?: number;
      submittedAt: number;
      requestAt: number;
      at: number;
    }
  | { kind: 'commit'; topic: string; partition: number; first: string; last: string; at: number };

export interface SharingStats {
  /**
   * Domain events sent on to the internal topic (with `changesTopic`). Then `applied`, `noop` and
   * `deadLettered` count changes, one per view document an event changes, and the dead letters.
   */
  routed: number;
  applied: number;
  noop: number;
  deadLettered: number;
  /** View documents written, all views together. */
  documentsWritten: number;
  /**
   * Times this member joined its consumer groups: 1 a group once started (two with `changesTopic`),
   * and one more for every rebalance it went through (a generation of a group), evicted or not.
   */
  groupJoins: number;
}

export interface SharingService extends Service {
  app: FastifyInstance;
  url(): string;
  stats(): SharingStats;
}

/** The consumer's session: how long the group waits for a member that stopped heartbeating. */
const SESSION_TIMEOUT_MS = 10_000;
/** Heartbeats go out this often, also while a chunk waits for its round. */
const HEARTBEAT_INTERVAL_MS = SESSION_TIMEOUT_MS / 5;
/**
 * How long a rebalance waits for the member to finish its chunk and join again. A chunk takes about
 * a round ({@link DEFAULT_ROUND_TARGET_MS}) when the store answers; this leaves room for a slow
 * one, and a member still retrying an absent store after that is better out of the group.
 */
const REBALANCE_TIMEOUT_MS = 30_000;
/** A writer round's target length, and so the longest wait for the chunk in hand at a rebalance. */
export const DEFAULT_ROUND_TARGET_MS = 2_000;

/**
 * The most bytes one fetch of either consumer brings (a quarter of it from one partition); kafkajs
 * allows 10 MiB. A fetch's messages keep its whole response alive until the last of its chunks
 * is done, and a member behind by millions of messages filled its heap to the 160 MiB bound with
 * kafkajs's sizes and two consumers. 2 MiB is thousands of messages, more than a round takes.
 */
const FETCH_MAX_BYTES = 2 * 1_048_576;

/**
 * The most bytes of changes one send gathers (apply-queue.ts), keys, values and headers counted:
 * within the broker's default `message.max.bytes` (1 MiB) for any partition's batch of it. A
 * chunk's own changes, heavier than that, still go, alone, as they did before sends were gathered.
 */
const SEND_ROUND_BYTES = 512 * 1_024;

/** A message's keys, values and headers, in bytes: its weight in a gathered send. */
function messageBytes({ key, value, headers }: Message): number {
  const size = (data: string | Buffer | null | undefined): number =>
    data === null || data === undefined
      ? 0
      : typeof data === 'string'
        ? Buffer.byteLength(data)
        : data.length;
  let bytes = size(key) + size(value);
  for (const [name, header] of Object.entries(headers ?? {})) {
    bytes += Buffer.byteLength(name);
    for (const part of Array.isArray(header) ? header : [header]) bytes += size(part);
  }
  return bytes;
}

/** Time between tries while the store or the registry is away; doubled up to the last. */
const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/**
 * The sharing service: a consumer group over the four domain topics that keeps the views. With
 * `changesTopic`, the domain group routes the events there, and a second group of the member's
 * (`changesGroupOf`) reads and applies them; each group fetches and commits on its own.
 *
 * For each partition's fetch, in chunks that a {@link createRoundPacer} sizes (at most `batchSize`)
 * so that a writer round lasts about `roundTargetMs`, heartbeating while a chunk waits:
 * 1. decode each message by its schema id; one that can never be read is set aside as a dead letter;
 * 2. write the dead letters to Kafka (acks=all);
 * 3. apply the events to the views ({@link materialize}); an event that cannot be applied (a
 *    projection throws, a document would pass the size limit) changes nothing and is dead-lettered
 *    with its code, `PROJECTION_FAILED` or `DOCUMENT_TOO_LARGE`, so the partition moves on;
 * 4. commit the offset after the chunk, while the partition's next chunk goes on (Kafka's async
 *    commit): the consumer does not wait a round trip to the coordinator between chunks.
 * A transient failure in 1 to 3 (registry, store or Kafka away) is retried in place until it passes
 * or the service stops, so a message is neither skipped nor dead-lettered for an outage. A crash between
 * 3 and 4, or a commit lost, replays the chunk, which the views' version guards make harmless.
 *
 * Stop, in order: start no more chunks, let the chunks in hand finish and their commits be made
 * while the consumers still run (kafkajs drops a commit once `consumer.stop()` has begun), stop and
 * disconnect the consumers (the domain group's first) and the producer, then close MongoDB.
 */
export function createSharingService(deps: SharingDeps): SharingService {
  const { kafka, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const topicOf = new Map<string, TopicName>();
  for (const name of Object.keys(TOPICS) as TopicName[])
    topicOf.set(deps.topics?.[name] ?? TOPICS[name].topic, name);
  const deadLetterTopic = deps.deadLetterTopic ?? DEAD_LETTER_TOPIC;
  const decoder = createEventDecoder({
    registry: deps.registry,
    clock,
    ...(deps.unknownSchemaRetryMs === undefined ? {} : { unknownSchemaRetryMs: deps.unknownSchemaRetryMs }),
  });
  const db = deps.mongo.db(deps.dbName);
  // Cleared at each join of the group, and when the collections change hands: see document-cache.ts.
  const cache = createDocumentCache(deps.cacheBytes ?? DEFAULT_CACHE_BYTES);
  let cachedCollections = '';
  const catalog = writableCollectionsReader(db, clock, deps.catalogReadingMs);
  const storeNow = async () => {
    const collections = deps.collections ?? (await catalog());
    const named = JSON.stringify(collections);
    if (named !== cachedCollections) cache.clear();
    cachedCollections = named;
    return createViewStore(db, collections, deps.onViewsWritten, {
      ...(changesTopic === null ? {} : { beforeCommand: () => writingLease.check() }),
      ...(deps.trace ? { afterCommand: writeTracer(deps.trace) } : {}),
      cache,
    });
  };
  const admin = kafka.admin();
  const producer = createRenewingProducer(kafka, {
    logger,
    ...(deps.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: deps.sendTimeoutMs }),
  });
  /** A consumer group of this member's, with its consumer. */
  const stageOf = ({ groupId, topics }: SharingGroup) => {
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // A consumer that kafkajs restarts after a broker's loss joins as a new member, and the group
      // waits for its former self until that session expires: kafkajs's 30 s would stall the views
      // that long (test:faults). Batches heartbeat after every chunk and while the store is away.
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES / 4,
    });
    // Its commits, gathered as the sends are: the chunks of one fetch end together.
    const commits = createApplyQueue<TopicPartitionOffsetAndMetadata, true>(async (offsets) => {
      // A partition's later chunk has the higher offset, and comes later.
      const latest = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o]));
      await consumer.commitOffsets([...latest.values()]);
      return offsets.map(() => true as const);
    });
    return { groupId, topics, consumer, commits };
  };
  const pacer = createRoundPacer({
    targetMs: deps.roundTargetMs ?? DEFAULT_ROUND_TARGET_MS,
    min: Math.min(10, deps.batchSize),
    max: deps.batchSize,
    initial: Math.min(100, deps.batchSize),
  });
  const totals: SharingStats = {
    routed: 0,
    applied: 0,
    noop: 0,
    deadLettered: 0,
    documentsWritten: 0,
    groupJoins: 0,
  };
  const changesTopic = deps.changesTopic ?? null;
  // The domain topics' consumer, and the changes topic's in a group of its own (changesGroupOf):
  // the one whose partitions name the documents this member writes.
  type Stage = ReturnType<typeof stageOf>;
  const stages = sharingGroups(deps.groupId, [...topicOf.keys()], changesTopic).map(stageOf);
  const [domainStage, changesStage] = stages as [Stage, Stage?];
  const domainConsumer = domainStage.consumer;
  const writingConsumer = (changesStage ?? domainStage).consumer;
  const stageFor = (topic: string): Stage =>
    topic === changesTopic ? (changesStage ?? domainStage) : domainStage;
  // A member writes, or sends changes, only while its membership is recent: see membership-lease.ts.
  const domainLease = membershipLease(domainConsumer, SESSION_TIMEOUT_MS / 2);
  const writingLease =
    changesStage === undefined ? domainLease : membershipLease(writingConsumer, SESSION_TIMEOUT_MS / 2);
  const partitionFor = createKeyPartitioner();
  let changesPartitions = 0;
  let ready = false;
  let drift: readonly TopicDrift[] = [];
  let stopping = false;
  // The chunks in hand and the commits in flight: a stop lets them finish while the consumers
  // still run, since kafkajs drops a commit once its consumer is stopping.
  const inFlight = new Set<Promise<unknown>>();
  const tracked = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };
  /** Resolves once nothing is in flight, the commits of chunks finished meanwhile included. */
  const drained = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  // What a batch fetched during a stop waits for, untouched, rather than returning at once and
  // having kafkajs fetch it again in a loop.
  let draining: Promise<void> = Promise.resolve();
  // The changes topic's partitions with a chunk in hand, each with the chunk that follows it in its
  // batch: the writer reads their documents ahead (materializer's readAhead).
  const nextChunks = new Map<string, readonly KafkaMessage[]>();

  const app = createHttpServer({ logger, bodyLimit: 1_024 });
  // Only operations endpoints, which declare their own answers; they load after the description.
  void registerOpenApi(app, {
    info: {
      title: 'lienthong sharing service',
      version: '1',
      description:
        "Keeps the cross-agency views from the domain topics; this server answers operators' probes",
    },
    errors: [],
  });
  const metrics = registerOperations(app, {
    service: 'sharing',
    ready: () => topicReadiness(ready, drift),
  });
  app.setErrorHandler(answerRequestError);
  app.setNotFoundHandler(routeNotFound);
  const events = new Counter({
    name: 'sharing_events_total',
    help: 'Events consumed, by topic and outcome (applied, noop, dead_lettered)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [metrics],
  });
  const lag = new Gauge({
    name: 'sharing_consumer_lag',
    help: 'Messages between the last committed offset and the high watermark, per partition',
    labelNames: ['topic', 'partition'] as const,
    registers: [metrics],
  });
  const joins = new Counter({
    name: 'sharing_group_joins_total',
    help: 'Times this member joined each of its consumer groups: one at start, one more for each rebalance',
    labelNames: ['group'] as const,
    registers: [metrics],
  });
  new Counter({
    name: 'sharing_documents_written_total',
    help: 'View documents written to the store by this member: each upsert of a document a round changed',
    registers: [metrics],
    collect() {
      this.reset();
      this.inc(totals.documentsWritten);
    },
  });
  new Counter({
    name: 'sharing_document_reads_total',
    help: "View documents the rounds needed, by where they came from: the writer's cache (hit), the cache after a read ahead during the round before (ahead), or the store during the round (miss)",
    labelNames: ['source'] as const,
    registers: [metrics],
    // Read from the cache's own counts at each scrape.
    collect() {
      this.reset();
      this.inc({ source: 'hit' }, cache.stats.hits);
      this.inc({ source: 'ahead' }, cache.stats.ahead);
      this.inc({ source: 'miss' }, cache.stats.misses);
    },
  });
  new Gauge({
    name: 'sharing_document_cache_bytes',
    help: 'BSON bytes of the view documents the writer keeps, up to SHARING_CACHE_MIB',
    registers: [metrics],
    collect() {
      this.set(cache.bytes);
    },
  });
  const sendSeconds = new Histogram({
    name: 'sharing_changes_send_seconds',
    help: "Time for Kafka to acknowledge a send to the changes topic, by sender: the first stage's routing (route) or a round's dependents, sent before it writes (round)",
    labelNames: ['from'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  const writeSeconds = new Histogram({
    name: 'sharing_store_write_seconds',
    help: 'Time to load, apply and write one round of events to the views',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });
  const stageSeconds = new Histogram({
    name: 'sharing_round_stage_seconds',
    help: "The parts of the writer's rounds: the catalog's read, the documents' loads, the projections (apply), the wait for Kafka to hold the dependent changes, and the writes",
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  const onStage: StageTimer = (stage, seconds) => stageSeconds.observe({ stage }, seconds);

  // The reads of the next round's documents that the round before began (materializer's readAhead).
  let aheadRead: Promise<void> = Promise.resolve();
  /** A round of one writer's: timed, paced, counted, and told to `trace` once over. */
  const writerRound =
    <E>(
      run: (
        events: readonly E[],
        store: ViewStore,
        onStage: StageTimer,
        upcoming: () => readonly E[],
      ) => Promise<{ outcomes: EventOutcome[]; written: Record<ViewName, number>; aheadRead: Promise<void> }>,
    ) =>
    async (events: readonly E[], oldestAt: number, upcoming: () => readonly E[]): Promise<EventOutcome[]> => {
      // Before anything of this round is read: a read ahead that landed after the round's own write
      // of its document would leave the cache behind the store.
      await aheadRead;
      const startedAt = Date.now();
      const timer = writeSeconds.startTimer();
      // The round's own time in each part, for the trace, besides the histogram's.
      const stages: Partial<Record<RoundStage, number>> = {};
      const timed: StageTimer = (stage, seconds) => {
        onStage(stage, seconds);
        stages[stage] = (stages[stage] ?? 0) + seconds * 1_000;
      };
      const outcome = await run(events, await timedStage(timed, 'catalog', storeNow), timed, upcoming);
      aheadRead = outcome.aheadRead;
      pacer.observe(events.length, timer() * 1_000);
      totals.documentsWritten += Object.values(outcome.written).reduce((a, b) => a + b, 0);
      deps.trace?.({ kind: 'round', oldestAt, startedAt, at: Date.now(), stages });
      return outcome.outcomes;
    };
  const projectionOptions = {
    ...(deps.projections ? { projections: deps.projections } : {}),
    ...(deps.maxDocumentBytes === undefined ? {} : { maxDocumentBytes: deps.maxDocumentBytes }),
  };

  // One writer for every partition in flight: see apply-queue.ts.
  const writer = createApplyQueue<SourcedEvent, EventOutcome>(
    writerRound((batch, store, onStage, upcoming) =>
      materialize(batch, store, { onStage, upcoming: () => subjectsOf(upcoming()), ...projectionOptions }),
    ),
  );

  // The chunks' and the rounds' sends of changes, gathered while one is in flight: one request
  // where each would have waited for the one before it (apply-queue.ts). Each message is answered
  // with when its request left.
  const changeSends = createApplyQueue<Message, number>(
    async (messages) => {
      if (changesTopic === null) throw new Error('This member routes no changes');
      const requestAt = Date.now();
      await producer.sendBatch({
        acks: ACKS_ALL,
        topicMessages: [{ topic: changesTopic, messages: [...messages] }],
      });
      return messages.map(() => requestAt);
    },
    { max: SEND_ROUND_BYTES, weight: messageBytes },
  );
  /**
   * Sends changes to the internal topic, each to its document's partition, and resolves once Kafka
   * holds them all (acks=all); only a member whose lease runs may send.
   */
  const sendChanges = async (
    changes: readonly Change[],
    from: 'route' | 'round',
    chunkAt?: number,
  ): Promise<void> => {
    if (changesTopic === null || changes.length === 0) return;
    // The routed changes are the domain group's to send, a round's dependents the writing group's.
    (from === 'route' ? domainLease : writingLease).check();
    const acknowledged = sendSeconds.startTimer({ from });
    const submittedAt = Date.now();
    const keys = changes.map((change) => documentKey(change.view, change.id));
    const requests = await changeSends.submit(
      changes.map((change, i) => ({
        ...changeMessage(change),
        partition: partitionFor(changesTopic, keys[i] as string, changesPartitions),
      })),
    );
    acknowledged();
    deps.trace?.({
      kind: 'send',
      from,
      keys,
      ...(chunkAt === undefined ? {} : { chunkAt }),
      submittedAt,
      // A submission goes whole in one request (apply-queue.ts): its messages share the time.
      requestAt: requests[0] ?? submittedAt,
      at: Date.now(),
    });
  };

  // The writer of the second stage: one for the changes of every partition in flight, as above.
  const changesWriter = createApplyQueue<SourcedChange, EventOutcome>(
    writerRound((batch, store, onStage, upcoming) =>
      materializeChanges(batch, store, {
        onStage,
        // What waits for the next round, and the next chunk of each partition whose chunk is in
        // hand: it comes to the round after this one, or the one after that.
        upcoming: () =>
          byView([
            ...upcoming().map(({ change }) => change),
            ...[...nextChunks.values()].flat().flatMap(({ key }) => documentOfKey(key) ?? []),
          ]),
        ...projectionOptions,
        beforeWrite: (dependents) => sendChanges(dependents, 'round'),
      }),
    ),
  );

  /** Runs `work` until it succeeds, waiting between tries, for as long as the service runs. */
  const untilDone = async <T>(
    what: string,
    work: () => Promise<T>,
    heartbeat: () => Promise<void>,
  ): Promise<T> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (err) {
        // A lapsed lease is not waited out here: the batch gives its chunk up (see eachBatch).
        if (stopping || err instanceof MembershipLapsedError) throw err;
        const level = isRetriable(err) ? 'warn' : 'error';
        logger[level]({ err, attempt }, `${what} failed; trying again`);
        await new Promise((r) =>
          setTimeout(r, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]),
        );
        await heartbeat();
      }
    }
  };

  /** Decodes a message, retrying while the registry is away; a poison message is returned, not thrown. */
  const decode = (
    topic: TopicName,
    message: Pick<KafkaMessage, 'value'>,
    heartbeat: () => Promise<void>,
    options: DecodeOptions = {},
  ) =>
    untilDone(
      'Decoding',
      () =>
        decoder.decode(topic, message.value, options).catch((err: unknown) => {
          if (err instanceof PoisonMessageError) return err;
          throw err;
        }),
      heartbeat,
    );

  /** Writes dead letters (acks=all), retrying while Kafka is away; a rebuild only counts them. */
  const writeDeadLetters = (letters: readonly DeadLetter[], heartbeat: () => Promise<void>) =>
    untilDone(
      'Writing dead letters',
      async () => {
        if (deadLetterTopic !== null) await sendDeadLetters(producer, letters, clock, deadLetterTopic);
      },
      heartbeat,
    );

  /**
   * Commits a finished chunk of `batch`, and sets the partition's lag from there, without holding
   * the partition's next chunk back for it: a commit lost to a crash or a rebalance has the chunk
   * read again, which the views' version guards make harmless, and the partition's next commit
   * covers it. Traced once Kafka took it.
   */
  const commitChunk = (batch: Batch, messages: readonly KafkaMessage[]): void => {
    const [first, last] = [messages[0], messages.at(-1)];
    if (first === undefined || last === undefined) return;
    const { topic, partition } = batch;
    const offset = (BigInt(last.offset) + 1n).toString();
    const committed = stageFor(topic)
      .commits.submit([{ topic, partition, offset }])
      .then(
        () => {
          lag.set(
            { topic, partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
          );
          deps.trace?.({
            kind: 'commit',
            topic,
            partition,
            first: first.offset,
            last: last.offset,
            at: Date.now(),
          });
        },
        (err: unknown) =>
          logger.warn(
            { err, topic, partition, offset },
            "An offset commit failed; the partition's next commit covers it, or the chunk is read again",
          ),
      );
    void tracked(committed);
  };

  /** Applies one chunk of a partition's messages and commits after it; resolves with its last offset. */
  const processChunk = async (
    batch: Batch,
    messages: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<string | undefined> => {
    const topic = topicOf.get(batch.topic);
    const last = messages.at(-1);
    if (topic === undefined || last === undefined) return undefined;
    const ingestedAt = new Date(clock());
    const good: SourcedEvent[] = [];
    const goodMessages: KafkaMessage[] = [];
    const spans: Span[] = [];
    const dead: DeadLetter[] = [];
    for (const message of messages) {
      const decoded = await decode(topic, message, heartbeat);
      if (decoded instanceof PoisonMessageError) {
        dead.push(deadLetterOf(batch, message, decoded.code, decoded.message));
        continue;
      }
      const traceparent = headerText(message.headers, 'traceparent');
      goodMessages.push(message);
      good.push(
        sourcedEvent(
          decoded,
          { topic: batch.topic, partition: batch.partition, offset: message.offset },
          ingestedAt,
          traceIdOf(traceparent) ?? null,
        ),
      );
      // The connector's trace goes on here: one span per event, child of the span that published it.
      const parent = propagation.extract(context.active(), traceparent ? { traceparent } : {});
      spans.push(trace.getTracer('lienthong').startSpan(`sharing apply ${decoded.eventType}`, {}, parent));
    }
    await writeDeadLetters(dead, heartbeat);
    const outcomes = await untilDone('Writing the views', () => writer.submit(good), heartbeat);
    for (const span of spans) span.end();
    // An event that cannot be applied changed nothing: it is dead-lettered, and the partition moves on.
    const unapplied: DeadLetter[] = [];
    outcomes.forEach((outcome, i) => {
      if (typeof outcome !== 'object') return;
      const message = goodMessages[i] as KafkaMessage;
      unapplied.push(deadLetterOf(batch, message, outcome.code, outcome.reason));
      logger.error(
        {
          err: outcome.cause,
          code: outcome.code,
          eventId: good[i]?.event.eventId,
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
        },
        'Event not applied; dead-lettering it',
      );
    });
    await writeDeadLetters(unapplied, heartbeat);
    dead.push(...unapplied);
    const applied = outcomes.filter((o) => o === 'applied').length;
    const noop = outcomes.filter((o) => o === 'noop').length;
    commitChunk(batch, messages);
    totals.applied += applied;
    totals.noop += noop;
    totals.deadLettered += dead.length;
    events.inc({ topic: batch.topic, outcome: 'applied' }, applied);
    events.inc({ topic: batch.topic, outcome: 'noop' }, noop);
    events.inc({ topic: batch.topic, outcome: 'dead_lettered' }, dead.length);
    if (dead.length > 0) {
      logger.warn(
        {
          topic: batch.topic,
          partition: batch.partition,
          count: dead.length,
          codes: [...new Set(dead.map((d) => d.code))],
        },
        'Messages dead-lettered',
      );
    }
    return last.offset;
  };

  /**
   * The first stage: decodes a chunk of a domain partition's messages and sends each event on to
   * the internal topic, once per document it changes (or once to its home document), then commits
   * the chunk once Kafka holds the changes. Undecodable messages are dead-lettered here.
   */
  const routeChunk = async (
    batch: Batch,
    messages: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<string | undefined> => {
    const tookAt = Date.now();
    const topic = topicOf.get(batch.topic);
    const last = messages.at(-1);
    if (topic === undefined || last === undefined) return undefined;
    const ingestedAt = new Date(clock());
    const changes: Change[] = [];
    const dead: DeadLetter[] = [];
    let routed = 0;
    for (const message of messages) {
      const decoded = await decode(topic, message, heartbeat);
      if (decoded instanceof PoisonMessageError) {
        dead.push(deadLetterOf(batch, message, decoded.code, decoded.message));
        continue;
      }
      const source = {
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        timestamp: message.timestamp,
        key: message.key,
        ingestedAt,
      };
      const common = {
        source,
        value: message.value as Buffer,
        headers: message.headers ?? {},
        context: new Map<string, ViewDoc | null>(),
      };
      const home = homeDocument(topic, decoded);
      if (home) {
        changes.push({ ...common, ...home, home: true });
      } else {
        const sourced = sourcedEvent(decoded, source, ingestedAt, null);
        const targets = directTargets(sourced, deps.projections);
        if (!Array.isArray(targets)) {
          logger.error(
            { err: targets.cause, code: targets.code, eventId: decoded.eventId },
            'Event not routed',
          );
          dead.push(deadLetterOf(batch, message, targets.code, targets.reason));
          continue;
        }
        for (const target of targets) changes.push({ ...common, ...target, home: false });
      }
      routed += 1;
    }
    await writeDeadLetters(dead, heartbeat);
    await untilDone('Sending the changes', () => sendChanges(changes, 'route', tookAt), heartbeat);
    commitChunk(batch, messages);
    totals.routed += routed;
    totals.deadLettered += dead.length;
    events.inc({ topic: batch.topic, outcome: 'routed' }, routed);
    events.inc({ topic: batch.topic, outcome: 'dead_lettered' }, dead.length);
    return last.offset;
  };

  /**
   * The second stage: applies a chunk of a partition of the internal topic, each change to its one
   * document, and commits after it. A change that cannot be applied is dead-lettered with the
   * domain event's own bytes and coordinates.
   */
  const applyChangesChunk = async (
    batch: Batch,
    messages: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<string | undefined> => {
    const last = messages.at(-1);
    if (last === undefined) return undefined;
    const items: SourcedChange[] = [];
    const spans: Span[] = [];
    const dead: DeadLetter[] = [];
    const decodedEvents = new Map<string, LienthongEvent | PoisonMessageError>();
    const letterOf = (change: Change, code: string, reason: string): DeadLetter => ({
      topic: change.source.topic,
      partition: change.source.partition,
      offset: change.source.offset,
      key: change.source.key,
      value: change.value,
      headers: change.headers,
      timestamp: change.source.timestamp,
      code,
      reason,
    });
    for (const message of messages) {
      let change: Change;
      try {
        change = readChange(message);
      } catch (err) {
        if (!(err instanceof MalformedChangeError)) throw err;
        dead.push(deadLetterOf(batch, message, ERROR_CODES.EVENT_UNDECODABLE, err.message));
        continue;
      }
      const topic = topicOf.get(change.source.topic);
      if (topic === undefined) {
        dead.push(
          letterOf(
            change,
            ERROR_CODES.EVENT_INVALID,
            `A change of topic ${change.source.topic}, not read here`,
          ),
        );
        continue;
      }
      // The changes an event gives in one chunk carry its one copy of bytes: read once.
      const source = `${change.source.topic}/${change.source.partition}/${change.source.offset}`;
      let decoded = decodedEvents.get(source);
      if (decoded === undefined) {
        decoded = await decode(topic, { value: change.value }, heartbeat, { checked: true });
        decodedEvents.set(source, decoded);
      }
      if (decoded instanceof PoisonMessageError) {
        dead.push(letterOf(change, decoded.code, decoded.message));
        continue;
      }
      const traceparent = headerText(change.headers, 'traceparent');
      items.push({
        change,
        sourced: sourcedEvent(
          decoded,
          change.source,
          change.source.ingestedAt,
          traceIdOf(traceparent) ?? null,
        ),
      });
      const parent = propagation.extract(context.active(), traceparent ? { traceparent } : {});
      spans.push(trace.getTracer('lienthong').startSpan(`sharing apply ${decoded.eventType}`, {}, parent));
    }
    const outcomes = await untilDone('Writing the views', () => changesWriter.submit(items), heartbeat);
    for (const span of spans) span.end();
    outcomes.forEach((outcome, i) => {
      const item = items[i];
      if (typeof outcome !== 'object' || item === undefined) return;
      dead.push(letterOf(item.change, outcome.code, outcome.reason));
      logger.error(
        {
          err: outcome.cause,
          code: outcome.code,
          eventId: item.sourced.event.eventId,
          view: item.change.view,
        },
        'Change not applied; dead-lettering its event',
      );
    });
    await writeDeadLetters(dead, heartbeat);
    commitChunk(batch, messages);
    const applied = outcomes.filter((o) => o === 'applied').length;
    const noop = outcomes.filter((o) => o === 'noop').length;
    totals.applied += applied;
    totals.noop += noop;
    totals.deadLettered += dead.length;
    // Counted under the domain topic the change's event came from.
    items.forEach(({ change }, i) => {
      const outcome = outcomes[i];
      if (outcome === 'applied' || outcome === 'noop') events.inc({ topic: change.source.topic, outcome });
    });
    for (const letter of dead) events.inc({ topic: letter.topic, outcome: 'dead_lettered' });
    if (dead.length > 0)
      logger.warn(
        { count: dead.length, codes: [...new Set(dead.map((d) => d.code))] },
        'Messages dead-lettered',
      );
    return last.offset;
  };

  /** What a chunk of `batch` goes through: the first or second stage, or the direct one. */
  const chunkOf = (batch: Batch) =>
    changesTopic === null ? processChunk : batch.topic === changesTopic ? applyChangesChunk : routeChunk;

  /** A fetched batch of either consumer, in chunks, each committed once done. */
  const chunked = async ({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> => {
    // kafkajs heartbeats only when asked: a chunk waiting for its round asks every interval.
    // A refused heartbeat is the group rebalancing; the batch stops after its chunk.
    let rebalancing = false;
    const keepAlive = (): void => {
      heartbeat().catch((err: unknown) => {
        if (!rebalancing) logger.info({ err }, 'A heartbeat was refused; the batch stops after its chunk');
        rebalancing = true;
      });
    };
    for (let i = 0; i < batch.messages.length;) {
      if (stopping) return draining;
      if (!isRunning() || isStale() || rebalancing) return;
      const chunk = batch.messages.slice(i, i + pacer.chunkSize());
      i += chunk.length;
      if (batch.topic === changesTopic)
        nextChunks.set(
          partitionKey(batch.topic, batch.partition),
          batch.messages.slice(i, i + pacer.chunkSize()),
        );
      // Twice an interval, so that the membership lease (half the session) is renewed in time.
      const pump = setInterval(keepAlive, HEARTBEAT_INTERVAL_MS / 2);
      let lastOffset: string | undefined;
      try {
        lastOffset = await tracked(chunkOf(batch)(batch, chunk, heartbeat));
      } catch (err) {
        // Its membership unproven, the member gives the chunk up uncommitted and goes back to
        // the group, which renews the lease or hands the partition on; heartbeats are
        // refused while a rebalance waits for this very batch, so waiting here would hang.
        if (!(err instanceof MembershipLapsedError)) throw err;
        logger.warn({ err, topic: batch.topic, partition: batch.partition }, 'Chunk given up');
        return;
      } finally {
        clearInterval(pump);
      }
      if (lastOffset !== undefined) resolveOffset(lastOffset);
      await heartbeat();
    }
  };
  /** {@link chunked}, its partition's next chunk forgotten once the batch is over, however it ends. */
  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    try {
      await chunked(payload);
    } finally {
      nextChunks.delete(partitionKey(payload.batch.topic, payload.batch.partition));
    }
  };

  /**
   * A changes group new to the cluster starts where the domain group had read the changes topic:
   * members of earlier versions read both topics in that one group. From the topic's beginning
   * instead, it would apply a month of changes again, as no-ops but each at a round's cost.
   * Another member seeding it first, or already in it, is as good.
   */
  const seedChangesGroup = async (): Promise<void> => {
    if (changesStage === undefined || changesTopic === null) return;
    const committed = async (groupId: string) =>
      (await admin.fetchOffsets({ groupId, topics: [changesTopic] }))
        .flatMap((t) => t.partitions)
        .filter((p) => p.offset !== '-1');
    if ((await committed(changesStage.groupId)).length > 0) return;
    const partitions = await committed(deps.groupId);
    if (partitions.length === 0) return;
    try {
      await admin.setOffsets({ groupId: changesStage.groupId, topic: changesTopic, partitions });
      logger.info(
        { group: changesStage.groupId, partitions: partitions.length },
        'The changes group starts where the domain group had read the changes topic',
      );
    } catch (err) {
      // The coordinator refuses offsets for a group with members: another member joined it first.
      logger.warn({ err, group: changesStage.groupId }, 'The changes group could not be seeded');
    }
  };

  let url = '';
  const lifecycle = createLifecycle('sharing', {
    async start() {
      stopping = false;
      if (deps.ownsMongo !== false) await deps.mongo.connect();
      await admin.connect();
      const deadLetters = [
        ...(deadLetterTopic === null ? [] : [deadLetterTopicDeclaration(deadLetterTopic)]),
        ...(changesTopic === null ? [] : [changesTopicDeclaration(changesTopic)]),
      ];
      // The domain topics are the connectors' to create; a missing one is not drift of this service.
      const read: TopicDeclaration[] = [...topicOf.keys()].map((topic) => ({
        topic,
        kind: 'domain',
        numPartitions: 1,
      }));
      await setUpTopics(async () => {
        await ensurePolicyTopics(admin, deadLetters);
        if (changesTopic !== null) {
          const [metadata] = (await admin.fetchTopicMetadata({ topics: [changesTopic] })).topics;
          changesPartitions = metadata?.partitions.length ?? 0;
          if (changesPartitions === 0) throw new Error(`The changes topic ${changesTopic} has no partitions`);
        }
        drift = (await checkTopics(admin, [...deadLetters, ...read])).filter((d) => d.setting !== 'topic');
      }, logger);
      for (const d of drift) logger.error({ drift: d }, describeDrift(d));
      await seedChangesGroup();
      await producer.connect();
      const joined = new Set<string>();
      for (const { groupId, topics, consumer } of stages) {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: true });
        consumer.on(consumer.events.GROUP_JOIN, () => {
          // The partitions, and with them the documents this member writes, may have changed.
          if (consumer === writingConsumer) cache.clear();
          joined.add(groupId);
          ready = joined.size === stages.length;
          totals.groupJoins += 1;
          joins.inc({ group: groupId });
        });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: deps.concurrency,
          eachBatch,
        });
      }
      url = await app.listen({ host: deps.host, port: deps.port });
    },
    async stop() {
      ready = false;
      stopping = true;
      // No chunk starts from here on; a batch fetched meanwhile waits for this, and is read again
      // by whoever next holds its partition.
      draining = drained();
      await app.close();
      // The chunks in hand finish, and their commits are made, while the consumers still run.
      await draining;
      // The first stage first, so that no more changes are routed while the second one stops.
      for (const { consumer } of stages) {
        await consumer.stop();
        await consumer.disconnect();
      }
      await producer.disconnect();
      await admin.disconnect();
      if (deps.ownsMongo !== false) await deps.mongo.close();
    },
  });
  return { ...lifecycle, app, url: () => url, stats: () => ({ ...totals }) };
}

function writeTracer(
  trace: (entry: SharingTraceEntry) => void,
): (collection: string, docs: readonly ViewDoc[], sentAt: number) => void {
  return (collection, docs, sentAt) => {
    const at = Date.now();
    const ids = docs.map((d) => d._id);
    trace({ kind: 'write', collection, ids, versions: docs.map(heldVersions), sentAt, at });
  };
}

/**
 * The version of each source record whose sections a document holds, the highest where it holds
 * several: whether a write showed an event, for one who cannot read the document itself.
 */
function heldVersions(doc: ViewDoc): Record<string, number> {
  const held = new Map<string, number>();
  for (const { section } of sectionsOf(doc)) {
    const { sourceRecordId, sourceVersion } = section.source as Provenance;
    held.set(sourceRecordId, Math.max(sourceVersion, held.get(sourceRecordId) ?? sourceVersion));
  }
  return Object.fromEntries(held);
}

/** The dead letter of a message as read, with its coordinates. */
function deadLetterOf(batch: Batch, message: KafkaMessage, code: string, reason: string): DeadLetter {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
    timestamp: message.timestamp,
    code,
    reason,
  };
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

import { type Admin, type Message, type Producer, type RecordMetadata, type RetryOptions } from 'kafkajs';
import { ERROR_CODES, isRetriable, LienthongError, UnavailableError } from '../../services/platform/errors';
import { ACKS_ALL } from '../../services/platform/kafka';
import { createKeyPartitioner } from '../../services/platform/key-partitioner';
import { type Logger } from '../../services/platform/logger';

/** One record to write: already encoded, keyed by its aggregate id. */
export interface OutgoingRecord {
  topic: string;
  /** The aggregate id; it picks the partition, so one entity's records stay in order. */
  key: string;
  value: Buffer;
  /** Such as `traceparent`. */
  headers?: Readonly<Record<string, string>>;
}

/** Where Kafka wrote a record, once every in-sync replica acknowledged it. */
export interface PublishedRecord {
  topic: string;
  partition: number;
  /** A 64-bit offset, as a decimal string (kafkajs's convention). */
  offset: string;
}

export interface Publisher {
  /**
   * Writes `records` and answers with where each went, in the order given. Resolves only once
   * Kafka acknowledged every one of them (acks=all). Rejects with an `UnavailableError`
   * (`KAFKA_UNAVAILABLE`, 503) when Kafka does not acknowledge them within `sendTimeoutMs`, or
   * fails the batch with a retriable error; some of the records may then have been written.
   */
  publish(records: readonly OutgoingRecord[]): Promise<PublishedRecord[]>;
  /** Sends what is waiting now, without lingering, and resolves once it has been answered. */
  flush(): Promise<void>;
  /** Refuses new records, then flushes. Idempotent. It does not disconnect the producer. */
  close(): Promise<void>;
}

/** What a lane sends through: kafkajs's `sendBatch`, or a renewing producer's. */
export type BatchSender = Pick<Producer, 'sendBatch'>;

export interface CreatePublisherOptions {
  /**
   * A connected idempotent producer with bounded retries: `createRenewingProducer` with the same
   * `sendTimeoutMs`, which renews the producer after a send in doubt and sends one batch at a time.
   * Several (each its own producer, with its own producer id) make as many lanes, each with a
   * batch in flight: see {@link createPublisher}.
   */
  producer: BatchSender | readonly BatchSender[];
  logger: Logger;
  /** How long the first waiting record waits for others before its batch is sent. */
  lingerMs?: number;
  /** A batch is sent at once when this many records wait, and never holds more. */
  maxBatchRecords?: number;
  /** How long a `publish` waits for Kafka's acknowledgement, from the call, before rejecting. */
  sendTimeoutMs?: number;
  /** The partition count of each topic published to, fetched once at startup ({@link fetchPartitionCounts}). */
  partitions: (topic: string) => number | undefined;
}

/** A record waiting for, or in, a batch, with the `publish` call it belongs to. */
interface Entry {
  record: OutgoingRecord;
  partition: number;
  call: Call;
  /** Its index among the call's records, where its result goes. */
  index: number;
  /** Its place in the queue since the publisher started, for `flush`. */
  seq: number;
}

interface Call {
  results: PublishedRecord[];
  remaining: number;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (results: PublishedRecord[]) => void;
  reject: (err: Error) => void;
}

/**
 * Gathers the records of concurrent `publish` calls into batches, and writes them with one
 * `sendBatch` at a time per lane.
 *
 * **Lanes.** Each producer given is a lane, and each partition belongs to one lane (partition
 * number modulo the lane count), so a lane's batches hold only its partitions, and one key's
 * records always take the same lane, in order. Lanes send side by side: with N producers, up to N
 * batches are in flight, as the Java client's `max.in.flight.requests.per.connection` (at most 5
 * with idempotence) allows on one producer. kafkajs cannot do that on one producer: it holds a
 * lock per broker for the whole produce request of an idempotent producer. A producer per lane
 * keeps each lane's sequence numbers its own, so one lane's failed send cannot leave a gap in
 * another's.
 *
 * **Batching.** A lane's batch leaves `lingerMs` after its first record arrived, or as soon as
 * `maxBatchRecords` wait; while a batch is in flight, records accumulate and the next batch leaves
 * as soon as it settles, so batches grow with the load. Only one `sendBatch` per lane is ever in
 * flight: kafkajs numbers an idempotent producer's batches per partition on the client, and a
 * second send racing a failing one can leave the broker with a sequence gap
 * (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
 *
 * **Offsets.** Each record's partition is computed here, with kafkajs's Java-compatible murmur2
 * partitioner ({@link createKeyPartitioner}), and set on the message. kafkajs writes a batch's
 * messages for one partition as one record batch, in order, and answers with that batch's
 * `baseOffset`; so the offset of a record is `baseOffset` plus its index among that send's
 * messages for its partition. (The idempotent producer writes no control records, so there are no
 * gaps; a retried request that the broker had already written is answered with its original
 * offsets.)
 *
 * **Bounded failure.** Every `publish` call starts a timer of `sendTimeoutMs`; if Kafka has not
 * acknowledged all of its records by then, the call rejects with `KAFKA_UNAVAILABLE`, whatever
 * kafkajs is still doing. The timer is the caller's only hard bound: kafkajs retries inside
 * `sendBatch` (the producer's `retry`), each retry may reconnect with the client's own `retry`,
 * and each request may wait `requestTimeout` (30 s by default) for a broker that accepted the
 * connection but does not answer. Those settings decide instead how long a send that already
 * lost its callers keeps the one in-flight slot: `createRenewingProducer` with the same
 * `sendTimeoutMs` gives such a send up at that time, or an idempotent producer retries forever
 * and every later `publish` times out too. Records
 * still queued when their call gave up are dropped rather than sent.
 *
 * A record is reported published only with an offset from Kafka's answer. A record whose call
 * gave up may still be written later (at least once): its `eventId` makes the resent copy a no-op.
 */
export function createPublisher(options: CreatePublisherOptions): Publisher {
  const { partitions, lingerMs = 5, maxBatchRecords = 500, sendTimeoutMs = 5000 } = options;
  requireInteger('lingerMs', lingerMs, 0);
  requireInteger('maxBatchRecords', maxBatchRecords, 1);
  requireInteger('sendTimeoutMs', sendTimeoutMs, 1);
  const producers: readonly BatchSender[] = Array.isArray(options.producer)
    ? options.producer
    : [options.producer as BatchSender];
  if (producers.length < 1) throw new RangeError('createPublisher needs at least one producer');
  const logger = options.logger.child({ component: 'publisher' });
  const partitionFor = createKeyPartitioner();
  const lanes = producers.map((producer) =>
    createLane({ producer, logger, lingerMs, maxBatchRecords, sendTimeoutMs }),
  );
  let closing: Promise<void> | undefined;

  const prepare = (records: readonly OutgoingRecord[]): Prepared[] =>
    records.map((record, index) => {
      const count = partitions(record.topic);
      if (count === undefined || !Number.isInteger(count) || count < 1) {
        throw new LienthongError(
          ERROR_CODES.INTERNAL,
          `No partition count for topic ${record.topic}: fetch its metadata at startup`,
          { statusCode: 500 },
        );
      }
      if (typeof record.key !== 'string' || !Buffer.isBuffer(record.value)) {
        throw new LienthongError(
          ERROR_CODES.INTERNAL,
          `Record ${index} needs a string key and a Buffer value`,
          { statusCode: 500 },
        );
      }
      return { record, partition: partitionFor(record.topic, record.key, count), index };
    });

  const flush = async (): Promise<void> => {
    await Promise.all(lanes.map((lane) => lane.flush()));
  };

  return {
    publish(records) {
      if (closing !== undefined) {
        return Promise.reject(new UnavailableError(ERROR_CODES.SHUTTING_DOWN, 'The publisher is closing'));
      }
      if (records.length === 0) return Promise.resolve([]);
      let prepared: Prepared[];
      try {
        // A bad record fails its own call, before it can fail a batch shared with others.
        prepared = prepare(records);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      return new Promise<PublishedRecord[]>((resolve, reject) => {
        const call: Call = {
          results: new Array<PublishedRecord>(records.length),
          remaining: records.length,
          settled: false,
          timer: undefined,
          resolve,
          reject,
        };
        call.timer = setTimeout(() => {
          const message = `Kafka did not acknowledge ${records.length} record(s) within ${sendTimeoutMs} ms`;
          settle(call, { error: new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, message) });
        }, sendTimeoutMs);
        const touched = new Set<Lane>();
        for (const entry of prepared) {
          // A partition always takes the same lane: one key's records stay in order.
          const lane = lanes[entry.partition % lanes.length] as Lane;
          lane.push(entry, call);
          touched.add(lane);
        }
        for (const lane of touched) lane.schedule();
      });
    },

    flush,

    close() {
      // Calls that were accepted before closing are still sent and answered.
      closing ??= flush();
      return closing;
    },
  };
}

/** A record checked and given its partition, before it joins a lane's queue. */
type Prepared = Omit<Entry, 'call' | 'seq'>;

interface Lane {
  push(entry: Prepared, call: Call): void;
  /** Sends at once if a batch is full, or starts the linger; once after pushing a call's records. */
  schedule(): void;
  /** Sends what is waiting now, without lingering, and resolves once it has been answered. */
  flush(): Promise<void>;
}

function settle(call: Call, outcome: { results: PublishedRecord[] } | { error: Error }): void {
  if (call.settled) return;
  call.settled = true;
  clearTimeout(call.timer);
  if ('error' in outcome) call.reject(outcome.error);
  else call.resolve(outcome.results);
}

/** One producer's queue and its one batch in flight (see {@link createPublisher}). */
function createLane(options: {
  producer: BatchSender;
  logger: Logger;
  lingerMs: number;
  maxBatchRecords: number;
  sendTimeoutMs: number;
}): Lane {
  const { producer, logger, lingerMs, maxBatchRecords, sendTimeoutMs } = options;
  let queue: Entry[] = [];
  let nextSeq = 0;
  /** Every entry with a smaller seq has been answered or dropped. Entries leave the queue in order. */
  let doneBefore = 0;
  let inFlight: Promise<void> | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;

  const schedule = (): void => {
    if (queue.length >= maxBatchRecords) drain();
    // While a batch is in flight, its completion drains the queue.
    else if (lingerTimer === undefined && inFlight === undefined) lingerTimer = setTimeout(drain, lingerMs);
  };

  function drain(): void {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    if (inFlight !== undefined) return;
    const batch: Entry[] = [];
    let taken = 0;
    while (taken < queue.length && batch.length < maxBatchRecords) {
      const entry = queue[taken] as Entry;
      taken += 1;
      if (!entry.call.settled) batch.push(entry);
    }
    if (taken === 0) return;
    const lastSeq = (queue[taken - 1] as Entry).seq;
    queue = queue.slice(taken);
    if (batch.length === 0) {
      doneBefore = lastSeq + 1;
      return;
    }
    inFlight = send(batch)
      .catch((err: unknown) => {
        // Only a defect gets here (sendBatch's own failures are handled in send), but every
        // caller must still get an answer, and an unawaited rejection would crash the process.
        const error = new LienthongError(ERROR_CODES.INTERNAL, 'Publishing a batch failed', { cause: err });
        for (const entry of batch) settle(entry.call, { error });
      })
      .finally(() => {
        doneBefore = lastSeq + 1;
        inFlight = undefined;
        if (queue.length > 0) drain();
      });
  }

  async function send(batch: Entry[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    // The index of each entry among this send's messages for its topic and partition.
    const positions: number[] = [];
    const counts = new Map<string, number>();
    for (const { record, partition } of batch) {
      let messages = byTopic.get(record.topic);
      if (messages === undefined) byTopic.set(record.topic, (messages = []));
      messages.push({
        key: record.key,
        value: record.value,
        partition,
        ...(record.headers === undefined ? {} : { headers: { ...record.headers } }),
      });
      const slot = partitionSlot(record.topic, partition);
      const position = counts.get(slot) ?? 0;
      counts.set(slot, position + 1);
      positions.push(position);
    }

    let acks: RecordMetadata[];
    try {
      acks = await producer.sendBatch({
        acks: ACKS_ALL,
        // The broker's wait for the in-sync replicas: no point waiting past the callers' deadline.
        timeout: sendTimeoutMs,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      const error = toPublishError(err);
      logger.warn({ err, records: batch.length, code: error.code }, 'Kafka did not acknowledge a batch');
      for (const entry of batch) settle(entry.call, { error });
      return;
    }

    const baseOffsets = new Map<string, bigint>();
    for (const ack of acks) {
      if (ack.errorCode === 0 && ack.baseOffset !== undefined) {
        baseOffsets.set(partitionSlot(ack.topicName, ack.partition), BigInt(ack.baseOffset));
      }
    }
    let late = 0;
    batch.forEach((entry, i) => {
      const { call, record, partition, index } = entry;
      if (call.settled) {
        late += 1;
        return;
      }
      const base = baseOffsets.get(partitionSlot(record.topic, partition));
      if (base === undefined) {
        // Never report an offset Kafka did not give: answer as if nothing was acknowledged.
        const message = `Kafka's answer has no offset for ${record.topic}/${partition}`;
        settle(call, { error: new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, message) });
        return;
      }
      call.results[index] = {
        topic: record.topic,
        partition,
        offset: (base + BigInt(positions[i] ?? 0)).toString(),
      };
      call.remaining -= 1;
      if (call.remaining === 0) settle(call, { results: call.results });
    });
    if (late > 0) {
      logger.warn({ records: late }, 'Kafka acknowledged records after their publish call had given up');
    }
  }

  return {
    push(entry, call) {
      queue.push({
        record: entry.record,
        partition: entry.partition,
        index: entry.index,
        call,
        seq: nextSeq++,
      });
    },
    schedule,
    async flush() {
      const target = nextSeq;
      while (doneBefore < target) {
        if (inFlight === undefined) drain();
        if (inFlight !== undefined) await inFlight;
      }
    },
  };
}

/**
 * kafkajs retry options for the Kafka client of a publisher: a few quick reconnection attempts
 * inside each of the producer's retries (`sendRetryOptions` in the kernel), which set the pace.
 */
export function connectionRetryOptions(): RetryOptions {
  return { initialRetryTime: 100, maxRetryTime: 500, multiplier: 2, factor: 0.2, retries: 2 };
}

/**
 * The partition count of each topic, for {@link CreatePublisherOptions.partitions}. Call it once
 * at startup: topics are created ahead ({@link ensureTopics}) and their partition counts never
 * change while a connector runs (adding partitions would move keys, and is an operation that
 * includes restarting the connectors).
 *
 * @throws kafkajs's error if a topic does not exist
 */
export async function fetchPartitionCounts(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  return new Map(metadata.map((t) => [t.name, t.partitions.length]));
}

/** Whether a failed send is Kafka being unreachable or busy, judged along its `cause` chain. */
function toPublishError(err: unknown): LienthongError {
  if (err instanceof LienthongError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // kafkajs wraps an exhausted reconnection in a non-retriable error whose cause is the
  // connection failure; that is still Kafka being unavailable.
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth += 1) {
    if (isRetriable(e)) {
      return new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, `Kafka is unavailable: ${message}`, {
        cause: err,
      });
    }
    e = (e as { cause?: unknown }).cause;
  }
  return new LienthongError(ERROR_CODES.INTERNAL, `Kafka refused the records: ${message}`, {
    cause: err,
    statusCode: 500,
  });
}

function partitionSlot(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
}

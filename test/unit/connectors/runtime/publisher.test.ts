import {
  type Admin,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  type Message,
  type ProducerBatch,
  type RecordMetadata,
} from 'kafkajs';
import {
  createPublisher,
  fetchPartitionCounts,
  type OutgoingRecord,
  type PublishedRecord,
} from '../../../../connectors/runtime/publisher';
import { createLogger, LienthongError, UnavailableError } from '../../../../services/platform';

// kafkajs's own murmur2, to check the publisher's partitions against the hash.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string) => number;

const logger = createLogger({ name: 'publisher-test', level: 'silent' });
const PARTITIONS: Record<string, number> = { tax: 6, 'tax.quarantine': 1, other: 3 };

/** `xs[i]`, failing the test if there is none. */
function at<T>(xs: readonly T[] | undefined, i: number): T {
  const x = xs?.[i];
  if (x === undefined) throw new Error(`nothing at index ${i}`);
  return x;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * A producer whose sends the test answers one by one. `ack(i)` answers send i as Kafka would,
 * with a base offset per partition that continues the partition's log.
 */
function fakeProducer() {
  const sends: { batch: ProducerBatch; answer: Deferred<RecordMetadata[]> }[] = [];
  const logEnd = new Map<string, bigint>();
  let inFlight = 0;
  let maxInFlight = 0;
  const waiters: (() => void)[] = [];

  const producer = {
    sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      const answer = deferred<RecordMetadata[]>();
      sends.push({ batch, answer });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      waiters.splice(0).forEach((w) => w());
      return answer.promise.finally(() => {
        inFlight -= 1;
      });
    },
  };

  /** What Kafka answers to send `i`, advancing each partition's log end. */
  const metadataFor = (i: number): RecordMetadata[] => {
    const counts = new Map<string, { topic: string; partition: number; n: number }>();
    for (const { topic, messages } of sends[i]?.batch.topicMessages ?? []) {
      for (const m of messages) {
        const slot = `${topic}/${m.partition}`;
        const entry = counts.get(slot) ?? { topic, partition: m.partition as number, n: 0 };
        entry.n += 1;
        counts.set(slot, entry);
      }
    }
    return [...counts].map(([slot, { topic, partition, n }]) => {
      // Logs start at different offsets, so an offset computed from the wrong partition shows.
      const base = logEnd.get(slot) ?? BigInt(1000 * partition + 7);
      logEnd.set(slot, base + BigInt(n));
      return { topicName: topic, partition, errorCode: 0, baseOffset: base.toString() };
    });
  };

  return {
    producer,
    sends,
    maxInFlight: () => maxInFlight,
    ack: (i: number) => sends[i]?.answer.resolve(metadataFor(i)),
    fail: (i: number, err: unknown) => sends[i]?.answer.reject(err),
    /** Resolves once `n` sends have been made. */
    async sent(n: number): Promise<void> {
      while (sends.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

function records(count: number, topic = 'tax', prefix = 'k'): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    key: `${prefix}${i % 37}`,
    value: Buffer.from(`${prefix}-value-${i}`),
    headers: { traceparent: `tp-${prefix}-${i}` },
  }));
}

/** Every message of a send, flattened, with its topic. */
function messagesOf(batch: ProducerBatch): (Message & { topic: string })[] {
  return (batch.topicMessages ?? []).flatMap(({ topic, messages }) => messages.map((m) => ({ ...m, topic })));
}

function publisherWith(fake: ReturnType<typeof fakeProducer>, overrides: Record<string, number> = {}) {
  return createPublisher({
    producer: fake.producer,
    logger,
    partitions: (topic) => PARTITIONS[topic],
    lingerMs: 5,
    maxBatchRecords: 500,
    sendTimeoutMs: 2000,
    ...overrides,
  });
}

describe('createPublisher', () => {
  it('gathers concurrent publish calls into one acks=all sendBatch with explicit murmur2 partitions', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const a = publisher.publish(records(3, 'tax', 'a'));
    const b = publisher.publish(records(2, 'other', 'b'));
    const c = publisher.publish(records(4, 'tax', 'c'));
    await fake.sent(1);
    fake.ack(0);
    await Promise.all([a, b, c]);

    expect(fake.sends).toHaveLength(1);
    const { batch } = at(fake.sends, 0);
    expect(batch.acks).toBe(-1);
    // One entry per topic, the records in the order they were published.
    expect(batch.topicMessages?.map((t) => t.topic)).toEqual(['tax', 'other']);
    const sent = messagesOf(batch);
    expect(sent.map((m) => m.value?.toString())).toEqual([
      ...['a-value-0', 'a-value-1', 'a-value-2', 'c-value-0', 'c-value-1', 'c-value-2', 'c-value-3'],
      ...['b-value-0', 'b-value-1'],
    ]);
    for (const m of sent) {
      expect(m.partition).toBe((murmur2(m.key as string) & 0x7fffffff) % (PARTITIONS[m.topic] as number));
      expect(m.headers?.traceparent).toMatch(/^tp-/);
    }
  });

  it('reports each record at its partition base offset plus its index among that partition’s messages', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const calls = Array.from({ length: 10 }, (_, i) => records(25 + i, i % 2 ? 'tax' : 'other', `p${i}-`));
    const pending = calls.map((rs) => publisher.publish(rs));
    await fake.sent(1);
    fake.ack(0);
    const results = await Promise.all(pending);

    // Rebuild the logs as Kafka would have written them, from what was sent.
    const logs = new Map<string, { key: string; value: string }[]>();
    for (const m of messagesOf(at(fake.sends, 0).batch)) {
      const slot = `${m.topic}/${m.partition}`;
      logs.set(slot, [
        ...(logs.get(slot) ?? []),
        { key: m.key as string, value: (m.value as Buffer).toString() },
      ]);
    }
    results.forEach((published, i) => {
      const sentRecords = at(calls, i);
      expect(published).toHaveLength(sentRecords.length);
      published.forEach((where: PublishedRecord, j) => {
        const record = at(sentRecords, j);
        expect(where.topic).toBe(record.topic);
        const base = 1000 * where.partition + 7;
        const written = logs.get(`${where.topic}/${where.partition}`)?.[Number(where.offset) - base];
        expect(written).toEqual({ key: record.key, value: record.value.toString() });
      });
    });
  });

  it('sends batches of at most maxBatchRecords, one at a time, continuing offsets across them', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake, { maxBatchRecords: 100 });
    const pending = [
      publisher.publish(records(130, 'tax', 'x')),
      publisher.publish(records(90, 'tax', 'y')),
      publisher.publish(records(30, 'tax', 'z')),
    ];
    for (let i = 0; i < 3; i += 1) {
      await fake.sent(i + 1);
      // The next batch is not sent until this one is answered.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fake.sends).toHaveLength(i + 1);
      fake.ack(i);
    }
    const results = (await Promise.all(pending)).flat();

    expect(fake.sends.map((s) => messagesOf(s.batch).length)).toEqual([100, 100, 50]);
    expect(fake.maxInFlight()).toBe(1);
    // Offsets are unique per partition and dense: nothing reported twice, nothing skipped.
    const byPartition = new Map<number, bigint[]>();
    for (const r of results)
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), BigInt(r.offset)]);
    for (const [partition, offsets] of byPartition) {
      const sorted = [...offsets].sort((x, y) => (x < y ? -1 : 1));
      expect(sorted).toEqual(sorted.map((_, i) => BigInt(1000 * partition + 7 + i)));
    }
  });

  it('rejects exactly the publish calls whose records were in a failed batch', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake, { maxBatchRecords: 4 });
    const first = publisher.publish(records(4, 'tax', 'first'));
    await fake.sent(1);
    // These two wait for the first batch, then leave together.
    const second = publisher.publish(records(2, 'tax', 'second'));
    const third = publisher.publish(records(2, 'tax', 'third'));
    fake.fail(0, new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));

    await expect(first).rejects.toMatchObject({
      name: 'UnavailableError',
      code: 'KAFKA_UNAVAILABLE',
      retriable: true,
    });
    await fake.sent(2);
    fake.ack(1);
    await expect(second).resolves.toHaveLength(2);
    await expect(third).resolves.toHaveLength(2);
    expect(messagesOf(at(fake.sends, 1).batch)).toHaveLength(4);
  });

  it('fails a whole publish call when one of its batches fails, even if another succeeded', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake, { maxBatchRecords: 3 });
    const call = publisher.publish(records(5));
    await fake.sent(1);
    fake.ack(0);
    await fake.sent(2);
    fake.fail(1, new KafkaJSConnectionError('Connection closed'));
    await expect(call).rejects.toBeInstanceOf(UnavailableError);
  });

  it('treats a non-retriable wrapper of a connection failure as Kafka being unavailable', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const call = publisher.publish(records(1));
    await fake.sent(1);
    const cause = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
    // What kafkajs's retrier throws when a reconnection inside a send gave up; its types omit
    // the constructor's second argument.
    const Wrapper = KafkaJSNonRetriableError as unknown as new (e: Error, meta: { cause: Error }) => Error;
    fake.fail(0, new Wrapper(cause, { cause }));
    await expect(call).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', statusCode: 503 });
  });

  it('answers a refusal Kafka will repeat with INTERNAL, not 503', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const call = publisher.publish(records(1));
    await fake.sent(1);
    fake.fail(0, new KafkaJSNonRetriableError('The producer is disconnecting'));
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LienthongError);
    expect(err).not.toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'INTERNAL', retriable: false });
  });

  it('rejects with KAFKA_UNAVAILABLE within sendTimeoutMs when Kafka does not answer', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake, { sendTimeoutMs: 150 });
    const started = Date.now();
    const stuck = publisher.publish(records(2));
    await fake.sent(1);
    // Queued behind the stuck send, it gives up on its own deadline, not the send's.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queuedAt = Date.now();
    const queued = publisher.publish(records(2, 'tax', 'q'));

    await expect(stuck).rejects.toMatchObject({ name: 'UnavailableError', code: 'KAFKA_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(Date.now() - started).toBeLessThan(400);
    await expect(queued).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    expect(Date.now() - queuedAt).toBeLessThan(400);

    // A late answer reports nothing, and records whose call gave up while queued are not sent.
    fake.ack(0);
    const later = publisher.publish(records(1, 'tax', 'later'));
    await fake.sent(2);
    expect(messagesOf(at(fake.sends, 1).batch).map((m) => m.value?.toString())).toEqual(['later-value-0']);
    fake.ack(1);
    await expect(later).resolves.toHaveLength(1);
    expect(fake.maxInFlight()).toBe(1);
  });

  it('never reports an offset Kafka did not give', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const call = publisher.publish(records(1));
    await fake.sent(1);
    at(fake.sends, 0).answer.resolve([]);
    await expect(call).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  });

  it('answers every caller even when the acknowledgement cannot be read, and keeps going', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const call = publisher.publish(records(2));
    await fake.sent(1);
    at(fake.sends, 0).answer.resolve(
      messagesOf(at(fake.sends, 0).batch).map((m) => ({
        topicName: m.topic,
        partition: m.partition as number,
        errorCode: 0,
        baseOffset: 'not a number',
      })),
    );
    await expect(call).rejects.toMatchObject({ code: 'INTERNAL' });
    const next = publisher.publish(records(1));
    await fake.sent(2);
    fake.ack(1);
    await expect(next).resolves.toHaveLength(1);
  });

  it('refuses a record for a topic it has no partition count for, without failing others', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake);
    const bad = publisher.publish([...records(1), { topic: 'unknown', key: 'k', value: Buffer.from('v') }]);
    const good = publisher.publish(records(1));
    await expect(bad).rejects.toMatchObject({ code: 'INTERNAL' });
    await fake.sent(1);
    fake.ack(0);
    await expect(good).resolves.toHaveLength(1);
    expect(messagesOf(at(fake.sends, 0).batch)).toHaveLength(1);
  });

  it('answers an empty publish at once', async () => {
    const fake = fakeProducer();
    await expect(publisherWith(fake).publish([])).resolves.toEqual([]);
    expect(fake.sends).toHaveLength(0);
  });

  it('flush sends without lingering; close waits for what was accepted, then refuses', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake, { lingerMs: 60_000 });
    const call = publisher.publish(records(3));
    const flushed = publisher.flush();
    await fake.sent(1);
    fake.ack(0);
    await flushed;
    await expect(call).resolves.toHaveLength(3);

    const last = publisher.publish(records(1));
    let closed = false;
    const closing = publisher.close().then(() => (closed = true));
    await expect(publisher.publish(records(1))).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await fake.sent(2);
    expect(closed).toBe(false);
    fake.ack(1);
    await closing;
    await expect(last).resolves.toHaveLength(1);
    await expect(publisher.close()).resolves.toBeUndefined();
  });

  it('keeps a batch in flight per producer, each partition always in the same lane, in order', async () => {
    const lanes = [fakeProducer(), fakeProducer(), fakeProducer()];
    const publisher = createPublisher({
      producer: lanes.map((l) => l.producer),
      logger,
      partitions: (topic) => PARTITIONS[topic],
      lingerMs: 1,
      maxBatchRecords: 500,
      sendTimeoutMs: 2000,
    });
    const first = publisher.publish(records(60, 'tax', 'a'));
    // Every lane sends while the others' batches are still unanswered.
    await Promise.all(lanes.map((l) => l.sent(1)));
    const second = publisher.publish(records(60, 'tax', 'b'));
    // The second call waits for its lanes' first batches: one send in flight per producer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lanes.map((l) => l.sends.length)).toEqual([1, 1, 1]);
    lanes.forEach((l) => l.ack(0));
    await Promise.all(lanes.map((l) => l.sent(2)));
    lanes.forEach((l) => l.ack(1));
    const results = [...(await first), ...(await second)];

    lanes.forEach((lane, i) => {
      expect(lane.maxInFlight()).toBe(1);
      const sent = lane.sends.flatMap((s) => messagesOf(s.batch));
      // Partitions 0 and 3 in the first lane, 1 and 4 in the second, 2 and 5 in the third.
      expect(new Set(sent.map((m) => (m.partition as number) % lanes.length))).toEqual(new Set([i]));
      // Within a lane, each key's records in the order they were published.
      for (const key of new Set(sent.map((m) => m.key))) {
        const values = sent.filter((m) => m.key === key).map((m) => m.value?.toString());
        const order = (v: string | undefined) => (v?.startsWith('a') ? 0 : 1e6) + Number(v?.split('-')[2]);
        expect(values).toEqual([...values].sort((x, y) => order(x) - order(y)));
      }
    });
    // Offsets continue each partition's log across the lane's two batches, none reported twice.
    const offsets = results.map((r) => `${r.partition}/${r.offset}`);
    expect(new Set(offsets).size).toBe(120);
  });
});

describe('fetchPartitionCounts', () => {
  it('reads each topic’s partition count from its metadata', async () => {
    const admin = {
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name, i) => ({ name, partitions: Array.from({ length: i + 1 }, () => ({})) })),
      }),
    } as unknown as Admin;
    const counts = await fetchPartitionCounts(admin, ['tax', 'tax.quarantine']);
    expect([...counts]).toEqual([
      ['tax', 1],
      ['tax.quarantine', 2],
    ]);
  });
});

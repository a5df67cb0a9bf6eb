import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Kafka, type Producer } from 'kafkajs';
import { createAvroEncoder } from '../../../connectors/runtime/avro-encoder';
import {
  createPublisher,
  fetchPartitionCounts,
  type OutgoingRecord,
  type PublishedRecord,
  type Publisher,
  connectionRetryOptions,
} from '../../../connectors/runtime/publisher';
import { createQuarantine, quarantineTopicDeclaration } from '../../../connectors/runtime/quarantine';
import { ensurePolicyTopics } from '../../../services/platform/topic-policy';
import { type LocalKafka } from '../../../deploy/local/local-kafka';
import {
  AVRO_LOGICAL_TYPES,
  createLogger,
  createProducer,
  createRenewingProducer,
  type RenewingProducer,
  ensureTopics,
  sendRetryOptions,
  UnavailableError,
} from '../../../services/platform';
import { type Registry } from '../../../services/registry/registry';
import { scratchDir, startPrivateBroker, uniqueName } from '../../support/fixtures';
import { readTopic, type ReceivedMessage, testKafka } from '../../support/kafka';
import { registryHarness } from '../../support/registry';

const ROOT = resolve(__dirname, '../../..');
const logger = createLogger({ name: 'it-publisher', level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `xs[i]`, failing the test if there is none. */
function at<T>(xs: readonly T[] | undefined, i: number): T {
  const x = xs?.[i];
  if (x === undefined) throw new Error(`nothing at index ${i}`);
  return x;
}

/** Every message of `topic`, read from the beginning: as many as its partitions' high watermarks add up to. */
/** Checks that Kafka holds each published record at the partition and offset reported for it. */
function expectAtReportedPlaces(
  received: readonly ReceivedMessage[],
  published: readonly { record: OutgoingRecord; where: PublishedRecord }[],
): void {
  const byPlace = new Map(received.map((m) => [`${m.partition}/${m.offset}`, m]));
  for (const { record, where } of published) {
    expect(where.topic).toBe(record.topic);
    const found = byPlace.get(`${where.partition}/${where.offset}`);
    expect({ key: found?.key, value: found?.value }).toEqual({
      key: record.key,
      value: record.value.toString(),
    });
  }
}

describe('the publisher, on the shared broker', () => {
  const topic = uniqueName('it-publisher');
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let publisher: Publisher;
  let sendBatches = 0;

  beforeAll(async () => {
    kafka = testKafka('it-publisher', { logger, retry: connectionRetryOptions() });
    admin = kafka.admin();
    await admin.connect();
    await ensurePolicyTopics(admin, [
      { topic, kind: 'domain', numPartitions: 6 },
      quarantineTopicDeclaration(topic),
    ]);
    const counts = await fetchPartitionCounts(admin, [topic, `${topic}.quarantine`]);
    producer = createProducer(kafka, { retry: sendRetryOptions(5000) });
    await producer.connect();
    publisher = createPublisher({
      // Counts the sends, to see that concurrent calls share them.
      producer: { sendBatch: (batch) => ((sendBatches += 1), producer.sendBatch(batch)) },
      logger,
      partitions: (name) => counts.get(name),
    });
  });

  afterAll(async () => {
    await publisher?.close();
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('writes 1,000 records from 20 concurrent calls where it says it did', async () => {
    const calls = Array.from({ length: 20 }, (_, c) =>
      Array.from({ length: 50 }, (_, i): OutgoingRecord => ({
        topic,
        // Keys repeat across calls, so partitions get records from many calls.
        key: `0108${String((c * 50 + i) % 97).padStart(6, '0')}`,
        value: Buffer.from(JSON.stringify({ call: c, seq: i })),
        headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
      })),
    );
    const results = await Promise.all(calls.map((records) => publisher.publish(records)));

    // 1,000 records at maxBatchRecords 500: two sends, not twenty.
    expect(sendBatches).toBe(2);
    const published = calls.flatMap((records, c) =>
      records.map((record, i) => ({ record, where: at(at(results, c), i) })),
    );
    expect(new Set(published.map(({ where }) => `${where.partition}/${where.offset}`)).size).toBe(1000);
    const received = await readTopic(kafka, topic);
    expect(received).toHaveLength(1000);
    expectAtReportedPlaces(received, published);
    expect(new Set(received.map((m) => m.headers.traceparent))).toEqual(
      new Set([`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`]),
    );
  });

  it('quarantines a refused record as JSON with its error code', async () => {
    const quarantine = createQuarantine({ publisher, topic });
    const where = await quarantine.quarantine({
      agency: 'HN-CUCTHUE',
      source: 'http',
      sourceRecordId: 'DKT-2024-1',
      record: { ma_so_thue: '0108912348' },
      issues: [{ path: '$.ma_so_thue', code: 'INVALID_TAX_CODE', message: 'The check digit is wrong' }],
      receivedAt: Date.UTC(2024, 0, 2),
    });
    const [message] = await readTopic(kafka, `${topic}.quarantine`);
    expect(message).toMatchObject({
      key: 'HN-CUCTHUE/DKT-2024-1',
      partition: where.partition,
      offset: where.offset,
      headers: { 'lienthong-error-code': 'INVALID_TAX_CODE', 'content-type': 'application/json' },
    });
    expect(JSON.parse(message?.value ?? 'null')).toMatchObject({
      topic,
      record: { ma_so_thue: '0108912348' },
      receivedAt: '2024-01-02T00:00:00.000Z',
    });
  });
});

/**
 * A broker of its own, as in kafka-restart.test.ts, so that stopping it leaves the broker the
 * other test files share alone.
 */
describe('the publisher with a lane per producer, on the shared broker', () => {
  const topic = uniqueName('it-publisher-lanes');
  let kafka: Kafka;
  let admin: Admin;
  const producers: RenewingProducer[] = [];
  let publisher: Publisher;
  let inFlight = 0;
  let mostInFlight = 0;

  beforeAll(async () => {
    kafka = testKafka('it-publisher-lanes', { logger, retry: connectionRetryOptions() });
    admin = kafka.admin();
    await admin.connect();
    await ensurePolicyTopics(admin, [{ topic, kind: 'domain', numPartitions: 6 }]);
    const counts = await fetchPartitionCounts(admin, [topic]);
    for (let i = 0; i < 3; i += 1) {
      const producer = createRenewingProducer(kafka, { sendTimeoutMs: 5000, logger });
      await producer.connect();
      producers.push(producer);
    }
    publisher = createPublisher({
      // Counts the sends in flight at once, across the lanes.
      producer: producers.map((p) => ({
        sendBatch: async (batch) => {
          mostInFlight = Math.max(mostInFlight, (inFlight += 1));
          try {
            return await p.sendBatch(batch);
          } finally {
            inFlight -= 1;
          }
        },
      })),
      logger,
      maxBatchRecords: 100,
      partitions: (name) => counts.get(name),
    });
  });

  afterAll(async () => {
    await publisher?.close();
    for (const producer of producers) await producer.disconnect();
    await admin?.disconnect();
  });

  it('writes every record once where it says, each key in the order published, with sends side by side', async () => {
    const calls = Array.from({ length: 20 }, (_, c) =>
      Array.from({ length: 50 }, (_, i): OutgoingRecord => ({
        topic,
        key: `0108${String((c * 50 + i) % 97).padStart(6, '0')}`,
        value: Buffer.from(JSON.stringify({ call: c, seq: i })),
      })),
    );
    // One call after another's records were queued, so that each key's order is the calls' order.
    const results = await Promise.all(calls.map((records) => publisher.publish(records)));

    expect(mostInFlight).toBeGreaterThan(1);
    const published = calls.flatMap((records, c) =>
      records.map((record, i) => ({ record, where: at(at(results, c), i) })),
    );
    const received = await readTopic(kafka, topic);
    // Nothing twice: as many messages as records, each at the place reported for it.
    expect(received).toHaveLength(1000);
    expectAtReportedPlaces(received, published);
    // Per key, the order in the log is the order of publishing.
    const byKey = new Map<string, number[]>();
    for (const m of [...received].sort((a, b) => Number(a.offset) - Number(b.offset))) {
      const { call, seq } = JSON.parse(m.value ?? '{}') as { call: number; seq: number };
      byKey.set(m.key ?? '', [...(byKey.get(m.key ?? '') ?? []), call * 50 + seq]);
    }
    for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('the publisher, when its broker stops', () => {
  const SEND_TIMEOUT_MS = 3000;
  const scratch = scratchDir('publisher-outage');
  const topic = uniqueName('it-publisher-outage');
  let broker: LocalKafka;
  let kafka: Kafka;
  let producer: RenewingProducer;
  let publisher: Publisher;

  beforeAll(async () => {
    broker = await startPrivateBroker(join(scratch.path, 'kafka'));
    // Both retry policies bounded: reconnections inside each producer retry follow the client's.
    kafka = testKafka('it-publisher-outage', {
      brokers: broker.endpoint,
      logger,
      retry: connectionRetryOptions(),
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
    const counts = await fetchPartitionCounts(admin, [topic]);
    await admin.disconnect();
    producer = createRenewingProducer(kafka, { sendTimeoutMs: SEND_TIMEOUT_MS, logger });
    await producer.connect();
    publisher = createPublisher({
      producer,
      logger,
      sendTimeoutMs: SEND_TIMEOUT_MS,
      partitions: (name) => counts.get(name),
    });
  }, 180_000);

  afterAll(async () => {
    await publisher?.close();
    await producer?.disconnect();
    await broker?.stop();
    scratch.remove();
  }, 120_000);

  it('rejects within sendTimeoutMs while it is down, publishes again once it is back, and loses nothing it reported', async () => {
    const published: { record: OutgoingRecord; where: PublishedRecord }[] = [];
    const failures: { error: unknown; waitedMs: number }[] = [];
    let seq = 0;
    let running = true;
    const batchOf = (n: number): OutgoingRecord[] =>
      Array.from({ length: n }, () => {
        const i = seq++;
        return { topic, key: `k${i % 41}`, value: Buffer.from(`v${i}`) };
      });
    const attempt = async (records: OutgoingRecord[]): Promise<boolean> => {
      const started = Date.now();
      try {
        const where = await publisher.publish(records);
        records.forEach((record, i) => published.push({ record, where: at(where, i) }));
        return true;
      } catch (error) {
        failures.push({ error, waitedMs: Date.now() - started });
        return false;
      }
    };
    const writer = async (): Promise<void> => {
      while (running) {
        await attempt(batchOf(10));
        await sleep(5);
      }
    };

    const writers = Array.from({ length: 4 }, () => writer());
    while (published.length < 300) await sleep(20);
    expect(failures).toEqual([]);

    // Stopped while the writers keep publishing; they see failures for a while.
    await broker.stop();
    const stoppedAt = Date.now();
    while (failures.length < 8 || Date.now() - stoppedAt < 2 * SEND_TIMEOUT_MS) await sleep(50);
    running = false;
    await Promise.all(writers);

    expect(failures.length).toBeGreaterThanOrEqual(8);
    for (const { error, waitedMs } of failures) {
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', statusCode: 503, retriable: true });
      expect(waitedMs).toBeLessThanOrEqual(SEND_TIMEOUT_MS + 1000);
    }

    // Back up: a send still retrying from the outage may hold the one slot for a moment, so a
    // caller (like an agency after a 503) tries again.
    expect(await broker.start()).toBe('started');
    await broker.waitReady();
    const backAt = Date.now();
    let succeeded = false;
    while (!succeeded && Date.now() - backAt < 60_000) succeeded = await attempt(batchOf(10));
    expect(succeeded).toBe(true);

    // A reader of its own, with kafkajs's default retries rather than the publisher's bounded
    // ones: the broker that just came back may take a few seconds to serve its first group.
    const reader = testKafka('it-publisher-outage-read', { brokers: broker.endpoint, logger });
    const received = await readTopic(reader, topic);
    expect(received.length).toBeGreaterThanOrEqual(published.length);
    expectAtReportedPlaces(received, published);
  }, 300_000);
});

describe('the Avro encoder, with the schema registry', () => {
  const harness = registryHarness();
  const subject = uniqueName('tax-value');
  let registry: Registry;

  beforeAll(async () => {
    registry = await harness.start();
    const schema = readFileSync(join(ROOT, 'schemas/tax.avsc'), 'utf8');
    await harness.client(registry, 'HN-CUCTHUE').register({ type: SchemaType.AVRO, schema }, { subject });
  });
  afterAll(() => harness.stopAll());

  const fixture = (name: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(ROOT, 'test/fixtures/avro/tax/v1', `${name}.json`), 'utf8')) as Record<
      string,
      unknown
    >;

  it('encodes what the official client decodes, decimals included', async () => {
    const encoder = createAvroEncoder({ registry: harness.client(registry, 'reader'), subject });
    await encoder.start();

    // The official client, as any consumer would use it: it fetches the schema by the id in the bytes.
    const plain = harness.client(registry, 'reader');
    const registered = fixture('TaxpayerRegistered');
    await expect(plain.decode(encoder.encode(registered))).resolves.toEqual(registered);

    // With lienthong's decimal logical type, amounts come back as the strings they were.
    const withDecimals = new SchemaRegistry(
      { host: registry.url(), auth: { username: 'reader', password: harness.keys.reader } },
      { [SchemaType.AVRO]: { logicalTypes: AVRO_LOGICAL_TYPES } },
    );
    const debt = fixture('TaxDebtUpdated');
    const bytes = encoder.encode(debt);
    expect(bytes.readInt32BE(1)).toBe(await plain.getLatestSchemaId(subject));
    await expect(withDecimals.decode(bytes)).resolves.toEqual(debt);
  });
});

import { type Kafka } from 'kafkajs';
import {
  ACKS_ALL,
  createLogger,
  createProducer,
  createRenewingProducer,
  ensureTopics,
  type RenewingProducer,
  UnavailableError,
} from '../../services/platform';
import { connectionRetryOptions } from '../../connectors/runtime/publisher';
import { uniqueName } from '../support/fixtures';
import { readTopic, startTestProxy, testKafka } from '../support/kafka';
import { API_KEYS, type ProducedBatch } from '../support/kafka-proxy';

/**
 * The renewing producer on the real broker, through the proxy. A producer whose connect failed
 * must not stay dead (every later send refused until a restart), nor half alive (sending without a
 * producer id). And what kafkajs cannot do: fence a producer given up at its timeout.
 */
describe('the renewing producer', () => {
  const logger = createLogger({ name: 'it-producer-renewal', level: 'silent' });
  const topic = uniqueName('it-producer-renewal');
  const proxy = startTestProxy();
  const batches: ProducedBatch[] = [];
  let kafka: Kafka;

  beforeAll(async () => {
    const direct = testKafka('it-setup', {
      logger,
    });
    const admin = direct.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();
    kafka = testKafka('it-producer-renewal', {
      logger,
      connectionTimeout: 1_000,
      retry: connectionRetryOptions(),
      socketFactory: proxy.socketFactory,
    });
  });
  afterEach(() => {
    proxy.refuse(false);
    proxy.onRequest(undefined);
  });
  afterAll(() => proxy.close());

  const record = (value: string) => ({
    acks: ACKS_ALL,
    topicMessages: [{ topic, messages: [{ key: 'k', value, partition: 0 }] }],
  });
  /** Sends `value` again after each retriable refusal, as the producer's users do, up to 10 times. */
  const sendUntilAcknowledged = async (producer: RenewingProducer, value: string) => {
    for (let tries = 1; ; tries += 1) {
      try {
        return await producer.sendBatch(record(value));
      } catch (error) {
        if (tries >= 10 || !(error instanceof UnavailableError)) throw error;
      }
    }
  };
  /** Records every produce request's batch identity; with `initProducerIdFails`, resets the first InitProducerId. */
  const watch = (initProducerIdFails = false): void => {
    let failed = false;
    proxy.onRequest((request) => {
      if (request.produce) batches.push(request.produce);
      if (initProducerIdFails && !failed && request.apiKey === API_KEYS.INIT_PRODUCER_ID) {
        failed = true;
        return { kind: 'swallow', then: 'reset' };
      }
      return undefined;
    });
  };

  it('recovers once the broker is reachable, without a restart', async () => {
    const producer = createRenewingProducer(kafka, { logger, sendTimeoutMs: 2_000 });
    proxy.refuse(true);
    await expect(producer.connect()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
    await expect(producer.sendBatch(record('refused'))).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    proxy.refuse(false);
    watch();
    const [ack] = await sendUntilAcknowledged(producer, 'reachable');
    await producer.disconnect();
    expect(ack).toMatchObject({ topicName: topic, errorCode: 0 });
    const held = await readTopic(kafka, topic);
    expect(held.find((m) => m.offset === ack?.baseOffset)?.value).toBe('reachable');
  });

  it('never sends through a producer that has no producer id', async () => {
    const producer = createRenewingProducer(kafka, { logger, sendTimeoutMs: 2_000 });
    batches.length = 0;
    watch(true);
    // The broker gave a producer id whose answer was lost: kafkajs rejects connect().
    await expect(producer.connect()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    await producer.sendBatch(record('after a lost producer id'));
    await producer.disconnect();
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) expect(batch.producerId).toBeGreaterThanOrEqual(0n);
  });

  it('(kafkajs alone) sends without idempotence after its InitProducerId failed: why the failed producer is dropped', async () => {
    const producer = createProducer(kafka);
    batches.length = 0;
    watch(true);
    await expect(producer.connect()).rejects.toThrow();
    // kafkajs counts the producer as connected without a producer id, and sends with none.
    await producer.sendBatch(record('without a producer id'));
    await producer.disconnect();
    expect(batches.map((b) => b.producerId)).toEqual([-1n]);
  });

  it('(kafkajs limit) a batch given up at its timeout can still be written, after a batch acknowledged since', async () => {
    const producer = createRenewingProducer(kafka, { logger, sendTimeoutMs: 1_000 });
    await producer.connect();
    let held = false;
    // The network towards the broker holds the first produce request past the send timeout.
    proxy.onRequest((request) => {
      if (request.apiKey !== API_KEYS.PRODUCE || held) return undefined;
      held = true;
      return { kind: 'hold', ms: 6_000 };
    });
    await expect(producer.sendBatch(record('given up'))).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    const [ack] = await sendUntilAcknowledged(producer, 'acknowledged since');
    let late: string | undefined;
    for (let tries = 0; tries < 50 && late === undefined; tries += 1) {
      late = (await readTopic(kafka, topic)).find((m) => m.value === 'given up')?.offset;
      if (late === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    await producer.disconnect();
    // The broker wrote the abandoned batch after the acknowledged one: the new producer id does not
    // fence the old (kafkajs has no epoch bump, KIP-360), so only acknowledged records keep their order.
    expect(BigInt(late ?? -1)).toBeGreaterThan(BigInt(ack?.baseOffset ?? 0));
  });
});

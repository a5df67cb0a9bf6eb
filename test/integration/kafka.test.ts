import { type Consumer, type Kafka, type Producer } from 'kafkajs';
import { ACKS_ALL, createLogger, createProducer, ensureTopics } from '../../services/platform';
import { uniqueName } from '../support/fixtures';
import { consumeUntil, testKafka } from '../support/kafka';

describe('Kafka through kafkajs', () => {
  const topic = uniqueName('it-kafka');
  let kafka: Kafka;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    kafka = testKafka('it-kafka', { logger: createLogger({ name: 'it-kafka', level: 'warn' }) });
    producer = createProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer.disconnect();
  });

  it('creates a topic with the admin client, and a second creation is a no-op', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const spec = [{ topic, numPartitions: 3 }];
      await ensureTopics(admin, spec);
      await ensureTopics(admin, spec);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('delivers what an idempotent acks=all producer sent, in order per key, with headers', async () => {
    const keys = ['dossier-1', 'dossier-2', 'dossier-3'];
    const messages = Array.from({ length: 60 }, (_, i) => ({
      key: keys[i % keys.length],
      value: JSON.stringify({ seq: i }),
      headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
    }));
    const acks = await producer.send({ topic, acks: ACKS_ALL, messages });
    // acks=all answers with the offset each partition reached.
    expect(acks.every((ack) => ack.errorCode === 0)).toBe(true);

    consumer = kafka.consumer({ groupId: uniqueName('it-kafka-group') });
    const received = await consumeUntil(consumer, topic, messages.length);

    expect(received).toHaveLength(messages.length);
    for (const key of keys) {
      const sent = messages.filter((m) => m.key === key).map((m) => m.value);
      const got = received.filter((m) => m.key === key).map((m) => m.value);
      expect(got).toEqual(sent);
    }
    expect(new Set(received.map((m) => m.headers.traceparent))).toEqual(
      new Set([`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`]),
    );
  });
});

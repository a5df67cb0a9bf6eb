import { type Admin, type Kafka, type ProducerConfig } from 'kafkajs';
import { ACKS_ALL, createProducer, ensureTopics } from '../../../services/platform';

describe('ACKS_ALL', () => {
  it('is kafkajs spelling of acks=all', () => {
    expect(ACKS_ALL).toBe(-1);
  });
});

describe('createProducer', () => {
  it('asks kafkajs for an idempotent producer with one request in flight', () => {
    let received: ProducerConfig | undefined;
    const kafka = { producer: (config: ProducerConfig) => ((received = config), {}) } as unknown as Kafka;
    createProducer(kafka);
    expect(received).toMatchObject({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    expect(received?.createPartitioner).toBeInstanceOf(Function);
  });
});

describe('ensureTopics', () => {
  function fakeAdmin(existing: string[]) {
    const calls: { topics: { topic: string; numPartitions?: number }[] }[] = [];
    const admin = {
      listTopics: async () => existing,
      createTopics: async (options: { topics: { topic: string; numPartitions?: number }[] }) => {
        calls.push(options);
        existing.push(...options.topics.map((t) => t.topic));
        return true;
      },
    } as unknown as Admin;
    return { admin, calls };
  }

  it('creates only the missing topics, and a second call creates nothing', async () => {
    const { admin, calls } = fakeAdmin(['dossier']);
    const spec = [
      { topic: 'dossier', numPartitions: 6 },
      { topic: 'tax', numPartitions: 3, replicationFactor: 1 },
    ];
    await expect(ensureTopics(admin, spec)).resolves.toEqual(['tax']);
    await expect(ensureTopics(admin, spec)).resolves.toEqual([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.topics).toEqual([{ topic: 'tax', numPartitions: 3, replicationFactor: 1 }]);
  });
});

import { type Admin, type Kafka, type ProducerConfig } from 'kafkajs';
import pino from 'pino';
import {
  ACKS_ALL,
  createProducer,
  createRenewingProducer,
  ensureTopics,
  isAuthorizationError,
  UnavailableError,
} from '../../../services/platform';

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

describe('createRenewingProducer', () => {
  /** A kafka whose producers answer sendBatch from `answers`, one producer per answer list. */
  function fakeKafka(answers: ((() => Promise<unknown>) | undefined)[]) {
    const made: { connected: boolean; disconnected: boolean; sends: number }[] = [];
    const kafka = {
      producer: () => {
        const state = { connected: false, disconnected: false, sends: 0 };
        made.push(state);
        const answer = answers[made.length - 1];
        return {
          connect: async () => void (state.connected = true),
          disconnect: async () => void (state.disconnected = true),
          sendBatch: async () => {
            state.sends += 1;
            return answer ? answer() : [];
          },
        };
      },
    } as unknown as Kafka;
    return { kafka, made };
  }
  const protocolError = (type: string) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });
  const logger = pino({ level: 'silent' });

  it('answers a refused producer identity as retriable and sends the next batch through a new producer', async () => {
    const { kafka, made } = fakeKafka([
      () => Promise.reject(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')),
      undefined,
    ]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(producer.sendBatch({ topicMessages: [] })).rejects.toBeInstanceOf(UnavailableError);
    await expect(producer.sendBatch({ topicMessages: [] })).resolves.toEqual([]);
    expect(made).toHaveLength(2);
    expect(made[0]).toMatchObject({ sends: 1, disconnected: true });
    expect(made[1]).toMatchObject({ sends: 1, connected: true });
  });

  it('passes any other failure through and keeps its producer', async () => {
    const failure = new Error('Connection error');
    const { kafka, made } = fakeKafka([() => Promise.reject(failure)]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(producer.sendBatch({ topicMessages: [] })).rejects.toBe(failure);
    expect(made).toHaveLength(1);
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

describe('isAuthorizationError', () => {
  it('finds an ACL refusal in an error, its causes or the errors it aggregates', () => {
    const refused = Object.assign(new Error('Not authorized'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(isAuthorizationError(refused)).toBe(true);
    expect(isAuthorizationError(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(
      isAuthorizationError(Object.assign(new Error('many'), { errors: [new Error('x'), refused] })),
    ).toBe(true);
    expect(
      isAuthorizationError(
        Object.assign(new Error('Leader not available'), { type: 'LEADER_NOT_AVAILABLE' }),
      ),
    ).toBe(false);
  });
});

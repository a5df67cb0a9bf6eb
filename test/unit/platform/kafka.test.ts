import { type Admin, type Kafka, type ProducerBatch, type ProducerConfig } from 'kafkajs';
import pino from 'pino';
import {
  ACKS_ALL,
  createProducer,
  createRenewingProducer,
  ensureTopics,
  isAuthorizationError,
  sendRetryOptions,
  setUpTopics,
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
  interface Made {
    connected: boolean;
    disconnected: number;
    sends: number;
    batches: ProducerBatch[];
  }
  /**
   * A kafka whose producers answer from `scripts`, one script per producer made: its `connect`
   * answer, then its `sendBatch` answers in order (a resolved empty list when none is left).
   */
  function fakeKafka(scripts: { connect?: () => Promise<void>; sends?: (() => Promise<unknown>)[] }[]) {
    const made: Made[] = [];
    const kafka = {
      producer: () => {
        const state: Made = { connected: false, disconnected: 0, sends: 0, batches: [] };
        const script = scripts[made.length] ?? {};
        made.push(state);
        return {
          connect: async () => {
            await script.connect?.();
            state.connected = true;
          },
          disconnect: async () => void (state.disconnected += 1),
          sendBatch: async (sent: ProducerBatch) => {
            const answer = script.sends?.[state.sends];
            state.sends += 1;
            state.batches.push(sent);
            return answer ? answer() : [];
          },
        };
      },
    } as unknown as Kafka;
    return { kafka, made };
  }
  const protocolError = (type: string, retriable = false) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable });
  const connectionError = () =>
    Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', retriable: true });
  const logger = pino({ level: 'silent' });
  const batch = { topicMessages: [{ topic: 't', messages: [{ key: 'k', value: 'v', partition: 0 }] }] };

  it('sends the batch after a send in doubt through a new producer, and answers the doubtful one as retriable', async () => {
    const { kafka, made } = fakeKafka([{ sends: [() => Promise.reject(connectionError())] }, {}]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(producer.sendBatch(batch)).rejects.toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
      retriable: true,
    });
    await expect(producer.sendBatch(batch)).resolves.toEqual([]);
    expect(made).toHaveLength(2);
    expect(made[0]).toMatchObject({ sends: 1 });
    expect(made[0]?.disconnected).toBeGreaterThan(0);
    expect(made[1]).toMatchObject({ sends: 1, connected: true, disconnected: 0 });
  });

  it('answers a refused producer identity as retriable', async () => {
    const { kafka, made } = fakeKafka([
      { sends: [() => Promise.reject(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))] },
      {},
    ]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(producer.sendBatch(batch)).rejects.toBeInstanceOf(UnavailableError);
    await expect(producer.sendBatch(batch)).resolves.toEqual([]);
    expect(made).toHaveLength(2);
  });

  it("passes the broker's final refusal through as it is, and still renews the producer", async () => {
    const refusal = protocolError('TOPIC_AUTHORIZATION_FAILED');
    const { kafka, made } = fakeKafka([{ sends: [() => Promise.reject(refusal)] }, {}]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(producer.sendBatch(batch)).rejects.toBe(refusal);
    await producer.sendBatch(batch);
    expect(made).toHaveLength(2);
  });

  it('gives a send up after sendTimeoutMs and sends the next one through a new producer', async () => {
    const { kafka, made } = fakeKafka([{ sends: [() => new Promise(() => undefined)] }, {}]);
    const producer = createRenewingProducer(kafka, { logger, sendTimeoutMs: 20 });
    await producer.connect();
    await expect(producer.sendBatch(batch)).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    await expect(producer.sendBatch(batch)).resolves.toEqual([]);
    expect(made).toHaveLength(2);
    expect(made[0]?.disconnected).toBeGreaterThan(0);
  });

  it('leaves no producer behind when connect fails: the next send connects a new one', async () => {
    const { kafka, made } = fakeKafka([{ connect: () => Promise.reject(connectionError()) }, {}]);
    const producer = createRenewingProducer(kafka, { logger });
    await expect(producer.connect()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    await expect(producer.sendBatch(batch)).resolves.toEqual([]);
    expect(made).toHaveLength(2);
    expect(made[0]).toMatchObject({ connected: false });
    expect(made[0]?.disconnected).toBeGreaterThan(0);
    expect(made[1]).toMatchObject({ connected: true, sends: 1 });
  });

  it('sends one batch at a time', async () => {
    let release: () => void = () => undefined;
    const { kafka, made } = fakeKafka([
      { sends: [() => new Promise((resolve) => (release = () => resolve([])))] },
    ]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    const first = producer.sendBatch(batch);
    const second = producer.sendBatch(batch);
    await new Promise((resolve) => setImmediate(resolve));
    expect(made[0]?.sends).toBe(1);
    release();
    await Promise.all([first, second]);
    expect(made[0]?.sends).toBe(2);
  });

  it("sends each partition's messages as a send of their own, in their order, and answers with all the partitions", async () => {
    const ack = (topicName: string, partition: number) => async () => [
      { topicName, partition, errorCode: 0 },
    ];
    const { kafka, made } = fakeKafka([{ sends: [ack('a', 0), ack('a', 1), ack('b', 0)] }]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    const message = (partition: number, value: string) => ({ key: value, value, partition });
    const acks = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: 'a', messages: [message(0, 'a0'), message(1, 'a1'), message(0, 'a0 again')] },
        { topic: 'b', messages: [message(0, 'b0')] },
      ],
    });
    const sent = made[0]?.batches.map((b) => ({ acks: b.acks, topicMessages: b.topicMessages }));
    expect(sent).toEqual([
      { acks: -1, topicMessages: [{ topic: 'a', messages: [message(0, 'a0'), message(0, 'a0 again')] }] },
      { acks: -1, topicMessages: [{ topic: 'a', messages: [message(1, 'a1')] }] },
      { acks: -1, topicMessages: [{ topic: 'b', messages: [message(0, 'b0')] }] },
    ]);
    expect(acks.map((a) => `${a.topicName}/${a.partition}`).sort()).toEqual(['a/0', 'a/1', 'b/0']);
  });

  it('fails the whole send, and renews the producer, when one partition fails', async () => {
    const { kafka, made } = fakeKafka([
      { sends: [async () => [], () => Promise.reject(connectionError())] },
      {},
    ]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    const twoPartitions = {
      topicMessages: [{ topic: 't', messages: [0, 1].map((partition) => ({ value: 'v', partition })) }],
    };
    await expect(producer.sendBatch(twoPartitions)).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    await producer.sendBatch(twoPartitions);
    expect(made.map((m) => m.sends)).toEqual([2, 2]);
  });

  it('refuses a message that names no partition, sending nothing', async () => {
    const { kafka, made } = fakeKafka([{}]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await expect(
      producer.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'v' }] }] }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(made[0]?.sends).toBe(0);
  });

  it('refuses sends after disconnect, until connected again', async () => {
    const { kafka, made } = fakeKafka([{}, {}]);
    const producer = createRenewingProducer(kafka, { logger });
    await producer.connect();
    await producer.disconnect();
    await expect(producer.sendBatch(batch)).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    expect(made[0]?.disconnected).toBe(1);
    await producer.connect();
    await expect(producer.sendBatch(batch)).resolves.toEqual([]);
    expect(made).toHaveLength(2);
  });
});

describe('sendRetryOptions', () => {
  it('retries for about sendTimeoutMs, with backoffs capped at one second', () => {
    const options = sendRetryOptions(5000);
    expect(options).toMatchObject({ initialRetryTime: 100, maxRetryTime: 1000, multiplier: 2 });
    // 100 + 200 + 400 + 800 + 1000 * 3 >= 5000
    expect(options.retries).toBe(8);
    expect(sendRetryOptions(1).retries).toBe(1);
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

  /** A principal without Create, asking brokers of which the first lists `tax` only the second time. */
  function refusingAdmin(listings: string[][]) {
    return {
      listTopics: async () => listings.shift() ?? [],
      createTopics: async () => {
        throw Object.assign(new Error('Topic creation errors'), {
          errors: [{ type: 'TOPIC_AUTHORIZATION_FAILED' }],
        });
      },
    } as unknown as Admin;
  }

  it('takes a refused creation of topics that a lagging broker had not listed yet for done', async () => {
    const admin = refusingAdmin([[], ['tax']]);
    await expect(ensureTopics(admin, [{ topic: 'tax', numPartitions: 3 }])).resolves.toEqual([]);
  });

  it('refuses, naming who creates topics, when they stay absent', async () => {
    const admin = refusingAdmin([[], [], []]);
    await expect(ensureTopics(admin, [{ topic: 'tax', numPartitions: 3 }], 0)).rejects.toMatchObject({
      code: 'KAFKA_NOT_AUTHORIZED',
    });
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

describe('setUpTopics', () => {
  const logger = pino({ level: 'silent' });
  const refusal = (type: string, retriable: boolean) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable });

  it('tries again after an ACL refusal, which a broker may answer until it applies a new grant', async () => {
    let calls = 0;
    const work = async () => {
      calls += 1;
      if (calls === 1) throw refusal('TOPIC_AUTHORIZATION_FAILED', false);
      return 'set up';
    };
    await expect(setUpTopics(work, logger)).resolves.toBe('set up');
    expect(calls).toBe(2);
  });

  it('throws at once an absent topic this principal may not create, as KAFKA_NOT_AUTHORIZED', async () => {
    let calls = 0;
    const admin = {
      listTopics: async () => [],
      createTopics: async () => {
        calls += 1;
        throw refusal('TOPIC_AUTHORIZATION_FAILED', false);
      },
      fetchTopicMetadata: async () => ({ topics: [] }),
    } as unknown as Admin;
    await expect(
      setUpTopics(() => ensureTopics(admin, [{ topic: 'absent', numPartitions: 1 }], 10), logger),
    ).rejects.toMatchObject({ code: 'KAFKA_NOT_AUTHORIZED' });
    expect(calls).toBe(1);
  });

  it('throws at once what no wait cures', async () => {
    let calls = 0;
    const work = async () => {
      calls += 1;
      throw refusal('INVALID_REPLICATION_FACTOR', false);
    };
    await expect(setUpTopics(work, logger)).rejects.toThrow('INVALID_REPLICATION_FACTOR');
    expect(calls).toBe(1);
  });
});

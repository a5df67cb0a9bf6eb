import { join } from 'node:path';
import { type Kafka, type Producer } from 'kafkajs';
import { type LocalKafka } from '../../deploy/local/local-kafka';
import { ACKS_ALL, createLogger, createProducer, ensureTopics } from '../../services/platform';
import { scratchDir, startPrivateBroker, uniqueName } from '../support/fixtures';
import { consumeUntil, testKafka } from '../support/kafka';

/**
 * A broker of its own, from the same stack manager, so that stopping it leaves the
 * broker the other test files share alone.
 */
describe('a Kafka broker restart', () => {
  const scratch = scratchDir('kafka-restart');
  const topic = uniqueName('it-restart');
  const groupId = uniqueName('it-restart-group');
  let broker: LocalKafka;
  let kafka: Kafka;
  let producer: Producer;

  const send = async (from: number, to: number): Promise<void> => {
    const messages = [];
    for (let i = from; i < to; i += 1) messages.push({ key: `k${i}`, value: String(i) });
    await producer.send({ topic, acks: ACKS_ALL, messages });
  };

  beforeAll(async () => {
    broker = await startPrivateBroker(join(scratch.path, 'kafka'));
    kafka = testKafka('it-restart', {
      brokers: broker.endpoint,
      logger: createLogger({ name: 'it-restart', level: 'silent' }),
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();
    producer = createProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
    scratch.remove();
  });

  const restart = async (how: 'stop' | 'kill'): Promise<void> => {
    await producer.disconnect();
    if (how === 'stop') await broker.stop();
    else await broker.kill();
    expect(broker.pid()).toBeUndefined();
    expect(await broker.start()).toBe('started');
    await broker.waitReady();
    await producer.connect();
  };

  it('keeps committed messages and offsets across a clean stop, and consumption resumes', async () => {
    await send(0, 100);

    // The first consumer reads half and commits exactly there.
    const first = kafka.consumer({ groupId });
    const firstHalf = await consumeUntil(first, topic, 50);
    await first.disconnect();
    expect(firstHalf.map((m) => m.value)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));

    await restart('stop');
    await send(100, 120);

    const second = kafka.consumer({ groupId });
    const rest = await consumeUntil(second, topic, 70);
    await second.disconnect();
    expect(rest.map((m) => m.value)).toEqual(Array.from({ length: 70 }, (_, i) => String(50 + i)));
  });

  it('keeps acknowledged messages when the broker is killed with SIGKILL', async () => {
    await send(120, 200);
    await restart('kill');

    const replay = kafka.consumer({ groupId: uniqueName('it-restart-replay') });
    const all = await consumeUntil(replay, topic, 200);
    await replay.disconnect();
    expect(all.map((m) => m.value)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

import { randomBytes } from 'node:crypto';
import { generateEventStream } from '../../support/event-stream';
import { readTopic, startTestProxy } from '../../support/kafka';
import { attemptsPerSend, faultEpisodes, produceFaultQueue, totalInjected } from '../../support/kafka-proxy';
import { sharingHarness } from '../../support/sharing';

/**
 * The sharing service's dead letters, with their produce requests failed by a proxy between the
 * service and the broker: a poison message is committed past only once its dead letter is in Kafka,
 * so every one must be there, at least once, whatever the faults.
 */

const SEND_TIMEOUT_MS = 1_000;
const ATTEMPTS = attemptsPerSend(SEND_TIMEOUT_MS);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const proxy = startTestProxy();
const harness = sharingHarness({
  partitions: 3,
  batchSize: 50,
  socketFactory: proxy.socketFactory,
  sendTimeoutMs: SEND_TIMEOUT_MS,
});
const faults = produceFaultQueue(proxy);

beforeAll(async () => {
  await harness.setUp();
  await harness.start();
});
afterAll(async () => {
  await harness.tearDown();
  await proxy.close();
});

it('writes every dead letter at least once over more than 50 faults, and commits past each poison message', async () => {
  // 58 episodes: 30 that kafkajs's retries get over, 28 that end a send in doubt.
  const episodes = faultEpisodes({ attempts: ATTEMPTS, timeoutMs: SEND_TIMEOUT_MS, quick: 10, slow: 7 });
  const good = generateEventStream(episodes.length, 31);
  const poison: Buffer[] = [];

  for (const [i, episode] of episodes.entries()) {
    faults.push(...episode);
    const raw = randomBytes(24);
    // Never Confluent-framed: with a leading 0 the bytes would name a schema id, which the service
    // waits minutes for the registry to learn (SCHEMA_UNKNOWN) instead of dead-lettering it at once.
    raw[0] = 0xff;
    poison.push(raw);
    const event = good[i];
    if (event === undefined) throw new Error('too few events');
    // The poison message beside a good event of the same entity: one chunk, one dead-letter send.
    await harness.publish([{ ...event, raw }, event]);
    while (harness.service().stats().deadLettered < i + 1) await sleep(10);
  }

  expect(totalInjected(proxy.injected())).toBeGreaterThanOrEqual(50);
  expect(harness.service().stats()).toMatchObject({ deadLettered: poison.length });
  const { committed, total } = await harness.progress();
  expect(committed).toBe(total);

  const letters = await readTopic(harness.kafka, harness.deadLetterTopic);
  const held = new Set(letters.map((l) => l.rawValue?.toString('hex')));
  expect(poison.filter((raw) => !held.has(raw.toString('hex')))).toEqual([]);
  process.stdout.write(
    `faults ${JSON.stringify(proxy.injected())}; dead letters ${poison.length}, held ${letters.length}\n`,
  );
}, 120_000);

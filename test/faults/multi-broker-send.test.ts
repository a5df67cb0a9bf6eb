/**
 * One send to two partitions led by two brokers, when one broker's request fails while the
 * other's is still in flight: the duplicates that `npm run test:faults` found under a leader kill,
 * reproduced on their own.
 *
 * kafkajs's `sendMessages` sends one request a leader and awaits them with `Promise.all`. When the
 * request to B fails, the retry starts while the request to A is still in flight; it queues behind
 * A's broker lock and, once A has answered, sends A's records again under the sequence numbers
 * that follow. The broker cannot tell them from new records and writes them twice. The retry only
 * gets there first when its metadata refresh goes to a broker other than A (A's connection is busy
 * with the late answer), which kafkajs picks at random, so the kafkajs-alone case tries until it
 * sees it. The renewing producer sends each partition on its own, and never duplicates.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type Kafka } from 'kafkajs';
import { ACKS_ALL, createProducer, createRenewingProducer } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { uniqueName } from '../support/fixtures';
import { startTestProxy, testKafka } from '../support/kafka';

/** How late the leader of partition 0 answers: far longer than kafkajs's first retry backoff. */
const LATE_ANSWER_MS = 3_000;
const RECORDS_PER_PARTITION = 3;
const KAFKAJS_TRIALS = 12;
const RENEWING_TRIALS = 4;

const logger = createLogger({ name: 'faults-multi-broker-send', level: 'silent' });
const topic = uniqueName('faults-multi-broker-send');
const proxy = startTestProxy();
let admin: Admin;
/** A client through the proxy, bootstrapped on the node that leads neither partition. */
let kafka: Kafka;

beforeAll(async () => {
  admin = testKafka('faults-multi-broker-setup').admin();
  await admin.connect();
  const { brokers } = await admin.describeCluster();
  const [a, b, c] = brokers.sort((x, y) => x.nodeId - y.nodeId);
  if (!a || !b || !c) throw new Error(`three brokers wanted, the cluster has ${brokers.length}`);
  // The first replica is the preferred leader: partition 0 on a, partition 1 on b.
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      {
        topic,
        replicaAssignment: [
          { partition: 0, replicas: [a.nodeId, b.nodeId, c.nodeId] },
          { partition: 1, replicas: [b.nodeId, c.nodeId, a.nodeId] },
        ],
      },
    ],
  });
  // Every node learns of the topic from the metadata log, a moment after the controller.
  const leaders = async () => {
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    return metadata?.partitions.map((p) => [p.partitionId, p.leader]).sort();
  };
  for (let tries = 0; tries < 60; tries += 1) {
    if ((await leaders().catch(() => undefined))?.length === 2) break;
    await sleep(500);
  }
  expect(await leaders()).toEqual([
    [0, a.nodeId],
    [1, b.nodeId],
  ]);
  kafka = testKafka('faults-multi-broker-send', {
    brokers: `${c.host}:${c.port}`,
    logger,
    socketFactory: proxy.socketFactory,
  });
});

afterAll(async () => {
  proxy.onRequest(undefined);
  await admin?.disconnect();
  await proxy.close();
});

/** The first produce request for partition 0 is answered late; the first for partition 1 is reset. */
function faultBothLeaders(): void {
  let late = false;
  let reset = false;
  proxy.onRequest((request) => {
    if (request.produce?.topic !== topic) return undefined;
    if (request.produce.partition === 0 && !late) {
      late = true;
      return { kind: 'delay', ms: LATE_ANSWER_MS };
    }
    if (request.produce.partition === 1 && !reset) {
      reset = true;
      return { kind: 'reset' };
    }
    return undefined;
  });
}

const batch = (trial: string) => ({
  acks: ACKS_ALL,
  topicMessages: [
    {
      topic,
      messages: [0, 1].flatMap((partition) =>
        Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => ({
          key: `${trial}-${partition}-${i}`,
          value: `${trial}-${partition}-${i}`,
          partition,
        })),
      ),
    },
  ],
});

/** Records written to each partition by `send`. */
async function written(send: () => Promise<unknown>): Promise<number[]> {
  const ends = async () =>
    (await admin.fetchTopicOffsets(topic))
      .sort((x, y) => x.partition - y.partition)
      .map((p) => Number(p.high));
  const before = await ends();
  await send();
  const after = await ends();
  return after.map((end, i) => end - (before[i] ?? 0));
}

it('(kafkajs alone) writes the records of the answered broker twice', async () => {
  const seen: number[][] = [];
  for (let trial = 0; trial < KAFKAJS_TRIALS; trial += 1) {
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      faultBothLeaders();
      seen.push(await written(() => producer.sendBatch(batch(`kafkajs-${trial}`))));
    } finally {
      proxy.onRequest(undefined);
      await producer.disconnect();
    }
    if (seen.at(-1)?.[0] === 2 * RECORDS_PER_PARTITION) break;
  }
  // Partition 0 holds its records twice in one of the trials: kafkajs answered the send as a success.
  expect(seen).toContainEqual([2 * RECORDS_PER_PARTITION, RECORDS_PER_PARTITION]);
}, 120_000);

it('the renewing producer writes every record once under the same faults', async () => {
  const producer = createRenewingProducer(kafka, { logger });
  await producer.connect();
  try {
    for (let trial = 0; trial < RENEWING_TRIALS; trial += 1) {
      faultBothLeaders();
      const counts = await written(() => producer.sendBatch(batch(`renewing-${trial}`)));
      expect(counts).toEqual([RECORDS_PER_PARTITION, RECORDS_PER_PARTITION]);
    }
  } finally {
    proxy.onRequest(undefined);
    await producer.disconnect();
  }
}, 120_000);

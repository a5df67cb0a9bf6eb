/**
 * `npm run test:faults`: broker faults on the local three-node cluster, under load through the
 * four agencies' connectors, with the sharing service materializing the views.
 *
 * (a) the node leading most of the written partitions is killed with SIGKILL, then restarted;
 * (b) the three nodes are restarted one after another.
 *
 * It passes when every record answered 2xx is in its topic at the partition and offset of the
 * answer, with the bytes its record maps to; when no record is missing and no eventId is in the
 * log twice but those of batches the load itself sent again; when the views equal a clean replay,
 * by hash; and when the sharing service never went 30 s without progress while it had work.
 * It prints each fault's unavailability: the longest time without a 2xx answer, and the 503s.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin } from 'kafkajs';
import { createAvroEncoder } from '../../connectors/runtime/avro-encoder';
import { type LocalKafka } from '../../deploy/local/local-kafka';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { registryClient } from '../support/connector';
import { DEFINITIONS } from '../support/event-stream';
import { readMessages } from '../support/kafka';
import { until as untilHolds } from '../support/fixtures';
import { replayDifferences, sharingHarness } from '../support/sharing';
import { agencyConnectors, agencyLoad, type Unavailability, unavailability } from './connector-load';

/** 10 records a POST, a POST every 0.4 s or so per agency: about 100 records/s in all. */
const BATCH = 10;
const PAUSE_MS = 300;
/** More than the run can send: the load stops when told to. */
const RECORDS_PER_AGENCY = 40_000;
const STALL_LIMIT_MS = 30_000;
const STEADY_MS = 15_000;
const REPLICAS = 3;

const log = (line: string): void => {
  process.stderr.write(`[test:faults] ${line}\n`);
};

const harness = sharingHarness({ partitions: 3 });
const connectors = agencyConnectors(harness.topics);
let admin: Admin;
let nodes: LocalKafka[];

beforeAll(async () => {
  // The suite's Kafka must be this worktree's local cluster of three, whose nodes it can kill.
  const stack = new LocalStack(stackConfig({ ...process.env, KAFKA_BROKERS: '' }), log);
  if (stack.kafka?.nodes.length !== REPLICAS || stack.kafka.endpoint !== process.env.KAFKA_BROKERS)
    throw new Error(
      `test:faults needs the local three-node cluster; the suite got KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`,
    );
  nodes = stack.kafka.nodes;
  await harness.setUp();
  for (const c of connectors) await c.harness.start();
  await harness.start();
  admin = harness.kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  for (const c of connectors) await c.harness.dispose();
  await harness.tearDown();
});

/** Polls `check` until it holds; an error thrown by it (a broker away) counts as not yet. */
const until = (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> =>
  untilHolds(what, check, timeoutMs, { pollMs: 250, tolerant: true });

/** The written topics and the consumer offsets, every partition with all its replicas in sync. */
async function waitInSync(): Promise<void> {
  const topics = [...Object.values(harness.topics), '__consumer_offsets'];
  await until(
    'every replica back in sync',
    async () => {
      const metadata = await admin.fetchTopicMetadata({ topics });
      return metadata.topics.every((t) => t.partitions.every((p) => p.isr.length >= REPLICAS));
    },
    180_000,
  );
}

/** The node that leads most partitions of the topics being written. */
async function busiestLeader(): Promise<{ nodeId: number; partitions: string[] }> {
  const metadata = await admin.fetchTopicMetadata({ topics: Object.values(harness.topics) });
  const led = new Map<number, string[]>();
  for (const t of metadata.topics)
    for (const p of t.partitions)
      led.set(p.leader, [...(led.get(p.leader) ?? []), `${t.name}/${p.partitionId}`]);
  const [nodeId, partitions] = [...led].sort((a, b) => b[1].length - a[1].length)[0] ?? [0, []];
  return { nodeId, partitions };
}

const nodeById = (id: number): LocalKafka => {
  const node = nodes.find((n) => n.nodeId === id);
  if (!node) throw new Error(`no node ${id}`);
  return node;
};

async function restart(node: LocalKafka, how: 'kill' | 'stop'): Promise<void> {
  if (how === 'kill') await node.kill();
  else await node.stop();
  await node.start();
  await node.waitReady(180_000);
}

it('loses no acknowledged record and no view through a leader kill and a rolling restart', async () => {
  const load = agencyLoad(connectors, RECORDS_PER_AGENCY, { batch: BATCH, pauseMs: PAUSE_MS });

  // The sharing service's progress, every 250 ms: time without an event taken while records it
  // has not taken were acknowledged is a stall.
  const service = harness.service();
  const began = Date.now();
  let seen = 0;
  let progressAt = began;
  let longestStall = { ms: 0, from: 0 };
  const monitor = setInterval(() => {
    const s = service.stats();
    const now = s.applied + s.noop + s.deadLettered;
    if (now > seen || now >= load.accepted.length) progressAt = Date.now();
    seen = now;
    if (Date.now() - progressAt > longestStall.ms)
      longestStall = { ms: Date.now() - progressAt, from: progressAt };
  }, 250);
  const since = (at: number): string => `${((at - began) / 1000).toFixed(1)} s`;

  const windows: { fault: string; detail: string; from: number; to: number }[] = [];
  try {
    load.start();
    await sleep(STEADY_MS);

    // (a) SIGKILL the leader of most of the written partitions; restart it once writes go on.
    const { nodeId, partitions } = await busiestLeader();
    const victim = nodeById(nodeId);
    log(`(a) SIGKILL ${victim.name}, leader of ${partitions.length} partitions: ${partitions.join(', ')}`);
    let from = Date.now();
    await victim.kill();
    // Writes go on once the controller has fenced the node and moved its leaderships, and every
    // connector has had a 2xx since: only then is the node restarted.
    await until(
      `leaders other than ${victim.name}`,
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: Object.values(harness.topics) });
        return metadata.topics.every((t) => t.partitions.every((p) => p.leader !== nodeId && p.leader >= 0));
      },
      120_000,
    );
    const moved = Date.now();
    await until(
      'a 2xx answer from every connector after the leaders moved',
      async () =>
        TOPIC_NAMES.every((agency) =>
          load.answers.some((a) => a.agency === agency && a.at > moved && a.status < 300 && a.status >= 200),
        ),
      120_000,
    );
    log(`(a) writes go on without ${victim.name} after ${Date.now() - from} ms; restarting it`);
    await victim.start();
    await victim.waitReady(180_000);
    await waitInSync();
    windows.push({ fault: '(a) SIGKILL of the leader', detail: victim.name, from, to: Date.now() });
    log(`(a) ${victim.name} back and every replica in sync after ${Date.now() - from} ms`);

    await sleep(STEADY_MS);

    // (b) A rolling restart: each node stopped (controlled shutdown), started, and back in sync
    // before the next.
    from = Date.now();
    for (const node of nodes) {
      log(`(b) restarting ${node.name}`);
      await restart(node, 'stop');
      await waitInSync();
    }
    windows.push({
      fault: '(b) rolling restart',
      detail: nodes.map((n) => n.name).join(', '),
      from,
      to: Date.now(),
    });
    log(`(b) done after ${Date.now() - from} ms`);

    await sleep(STEADY_MS / 3);
  } finally {
    await load.stop();
  }

  // The sharing service takes everything in the topics, then the views are replayed cleanly.
  await until('the sharing service to commit every event', () => harness.drained(), 300_000);
  clearInterval(monitor);

  const failures: string[] = [];
  const figures = windows.map((w) => ({ ...w, ...unavailability(load.answers, w.from, w.to) }));

  // Every message of the four topics, decoded, by its coordinates.
  const registry = registryClient();
  const byCoordinates = new Map<string, { key?: string; value: Buffer; eventId: string }>();
  const copiesOf = new Map<string, string[]>();
  for (const agency of TOPIC_NAMES) {
    const topic = harness.topics[agency];
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    for (const m of await readMessages(harness.kafka, topic, total, { timeoutMs: 120_000 })) {
      const value = m.rawValue ?? Buffer.alloc(0);
      const { eventId } = (await registry.decode(value)) as { eventId: string };
      byCoordinates.set(`${topic}/${m.partition}/${m.offset}`, { key: m.key, value, eventId });
      copiesOf.set(eventId, [...(copiesOf.get(eventId) ?? []), `${topic}/${m.partition}/${m.offset}`]);
    }
  }

  // Each 2xx answer: its record, at its coordinates, with the bytes the record maps to.
  const encoders = new Map(
    TOPIC_NAMES.map((t) => [t, createAvroEncoder({ registry, subject: TOPICS[t].valueSubject })]),
  );
  for (const encoder of encoders.values()) await encoder.start();
  const agencyOf = new Map(TOPIC_NAMES.map((t) => [harness.topics[t], t]));
  const allowedTwice = new Set<string>();
  for (const a of load.accepted) {
    const agency = agencyOf.get(a.topic);
    if (!agency) {
      failures.push(`an answer names topic ${a.topic}, not one of the load's`);
      continue;
    }
    const mapped = DEFINITIONS[agency].map(load.records[agency][a.index], { now: Date.now() });
    if (!mapped.ok) {
      failures.push(`${agency} record ${a.index} no longer maps`);
      continue;
    }
    if (load.resent.has(`${agency}/${a.index}`)) allowedTwice.add(a.eventId);
    const found = byCoordinates.get(`${a.topic}/${a.partition}/${a.offset}`);
    const expected = encoders.get(agency)?.encode(mapped.value.event);
    if (!found)
      failures.push(`${a.eventId}: answered at ${a.topic}/${a.partition}/${a.offset}, nothing is there`);
    else if (found.eventId !== a.eventId)
      failures.push(
        `${a.eventId}: answered at ${a.topic}/${a.partition}/${a.offset}, which holds ${found.eventId}`,
      );
    else if (!expected?.equals(found.value) || found.key !== mapped.value.key)
      failures.push(`${a.eventId}: at ${a.topic}/${a.partition}/${a.offset}, other bytes than its record's`);
  }
  const acknowledgedIds = new Set(load.accepted.map((a) => a.eventId));
  const sentCount = load.accepted.length;
  if (acknowledgedIds.size !== sentCount)
    failures.push(`${sentCount - acknowledgedIds.size} eventIds answered twice`);
  if (load.rejected.length > 0) failures.push(`records rejected: ${load.rejected.slice(0, 5).join(', ')}`);
  // Nothing in the log that was not acknowledged, and nothing twice but resends.
  let duplicates = 0;
  let tolerated = 0;
  for (const [eventId, copies] of copiesOf) {
    if (!acknowledgedIds.has(eventId)) failures.push(`${eventId} is in the log, but no answer gave it`);
    if (copies.length > 1 && allowedTwice.has(eventId)) tolerated += copies.length - 1;
    else if (copies.length > 1) {
      duplicates += copies.length - 1;
      const answered = load.accepted.find((a) => a.eventId === eventId);
      failures.push(
        `${eventId} is in the log ${copies.length} times (${copies.join(', ')}), sent once and answered ` +
          `${answered?.partition}/${answered?.offset}`,
      );
    }
  }

  // The views against a clean replay of the topics, document by document, by hash.
  const report = await harness.dryRunReplay('test-faults-rebuild');
  failures.push(...replayDifferences(report));
  if (longestStall.ms > STALL_LIMIT_MS)
    failures.push(`the sharing service stalled for ${longestStall.ms} ms from ${since(longestStall.from)}`);

  const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  process.stdout.write(
    [
      '',
      `test:faults: ${sentCount} records answered 2xx by 4 connectors, ${load.resent.size} sent again, ` +
        `${tolerated} duplicates from resends, ${duplicates} other duplicates, ${report.events} events replayed`,
      row([
        'fault',
        'nodes',
        'longest gap between 2xx',
        '503 answers',
        'no answer',
        '2xx answers',
        'fault lasted',
      ]),
      row(['---', '---', '---', '---', '---', '---', '---']),
      ...figures.map((f: (typeof figures)[number] & Unavailability) =>
        row([
          f.fault,
          f.detail,
          `${(f.longestGapMs / 1000).toFixed(1)} s`,
          f.unavailable,
          f.notAnswered,
          f.answered2xx,
          `${((f.to - f.from) / 1000).toFixed(1)} s from ${since(f.from)}`,
        ]),
      ),
      `longest sharing-service stall: ${(longestStall.ms / 1000).toFixed(1)} s from ${since(longestStall.from)} (limit ${STALL_LIMIT_MS / 1000} s)`,
      `views equal a clean replay: ${failures.some((f) => f.startsWith('view ')) ? 'NO' : 'yes'}`,
      ...failures.slice(0, 20).map((f) => `FAIL ${f}`),
      '',
    ].join('\n'),
  );
  expect(failures).toEqual([]);
  expect(sentCount).toBeGreaterThan(0);
}, 1_800_000);

/**
 * The sharing service stays in its group under three times the lookup benchmark's ingest, with a
 * process beside it that keeps a core busy. In the benchmark it was evicted for 25 s: fixed chunks
 * of 500 events, 6 partitions at once, made rounds of 3,000 events that outlasted its session on a
 * loaded store. Here it runs as a process of its own with a chunk limit of 2,000 and starts 48,000
 * events behind, so that fixed chunks would make rounds of 12,000 events, longer than the session
 * on any machine this runs on; the pacer must keep its rounds short and its heartbeats going.
 *
 * It counts the member's joins of each of its two groups, the domain topics' and the changes
 * topic's (`sharing_group_joins_total{group}`): one at start, and one more for every rebalance,
 * an eviction included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin } from 'kafkajs';
import { generateEventStream } from '../../support/event-stream';
import { freePort } from '../../support/fixtures';
import { changesGroupOf } from '../../../services/sharing/changes';
import { sharingHarness } from '../../support/sharing';

/** The lookup benchmark published about 400 events/s while it ran; three times that. */
const EVENTS_PER_SECOND = 1_200;
const LOAD_MS = 35_000;
/** Published before the service starts: 2,000 a partition, a full chunk for each. */
const BEHIND = 48_000;
const TICK_MS = 250;

const harness = sharingHarness({ partitions: 6, batchSize: 2_000 });
let hog: ChildProcess | undefined;
let admin: Admin;

beforeAll(async () => {
  await harness.setUp();
  admin = harness.kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  hog?.kill('SIGKILL');
  await admin?.disconnect();
  await harness.tearDown();
});

/**
 * The most times the service joined one of its two groups, from its metrics; undefined until it
 * answers for both.
 */
async function joins(port: number): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (!response?.ok) return undefined;
  // `sharing_group_joins_total{group="…",service="sharing"} 1`, a line per group
  const counts = (await response.text())
    .split('\n')
    .filter((l) => l.startsWith('sharing_group_joins_total{'))
    .map((l) => Number(l.split(' ').at(-1)));
  return counts.length === 2 ? Math.max(...counts) : undefined;
}

it('keeps its one generation of the group under three times the load, with a CPU hog beside it', async () => {
  const stream = generateEventStream(BEHIND + (EVENTS_PER_SECOND * LOAD_MS) / 1_000);
  // The service starts behind, as after a restart under load: its first chunks are full.
  await harness.publish(stream.slice(0, BEHIND));
  const port = await freePort();
  harness.spawnProcess(undefined, port);
  for (let tries = 0; (await joins(port)) !== 1; tries += 1) {
    if (tries > 480) throw new Error('the sharing process did not join its group within 120 s');
    await sleep(250);
  }
  const members = new Set<string>();
  const states = new Set<string>();
  /** The groups as the coordinator describes them. */
  const watchGroup = async (): Promise<void> => {
    const { groups } = await admin.describeGroups([harness.groupId, changesGroupOf(harness.groupId)]);
    for (const group of groups) {
      states.add(
        group.members.length === 1 ? group.state : `${group.state} with ${group.members.length} members`,
      );
      for (const m of group.members) members.add(m.memberId);
    }
  };

  hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const perTick = (EVENTS_PER_SECOND * TICK_MS) / 1_000;
  const began = Date.now();
  const seen: number[] = [];
  // Sampled on their own, every tick, while the load runs: a publish slowed by a busy machine
  // (a routing service doubles the broker's work) must not thin the samples out.
  let loading = true;
  const sampling = (async () => {
    while (loading) {
      const count = await joins(port);
      if (count !== undefined) seen.push(count);
      await watchGroup();
      await sleep(TICK_MS);
    }
  })();
  let published = BEHIND;
  try {
    while (published < stream.length && Date.now() - began < LOAD_MS) {
      const due = Math.min(
        stream.length,
        BEHIND + Math.floor(((Date.now() - began) / TICK_MS + 1) * perTick),
      );
      if (due > published) {
        await harness.publish(stream.slice(published, due));
        published = due;
      }
      await sleep(TICK_MS);
    }
  } finally {
    loading = false;
    await sampling;
  }
  const loadMs = Date.now() - began;
  hog.kill('SIGKILL');
  const { committed, total } = await harness.progress();
  // Past the session timeout, so that an eviction during the load is counted.
  for (const end = Date.now() + 25_000; Date.now() < end; await sleep(TICK_MS)) await watchGroup();
  const after = await joins(port);
  process.stdout.write(
    `no-eviction: ${BEHIND} events behind, then ${published - BEHIND} in ${(loadMs / 1000).toFixed(1)} s ` +
      `(${Math.round(((published - BEHIND) * 1000) / loadMs)}/s); ${committed} applied by the load's end, ` +
      `most joins of a group ${after ?? 'unknown'} (${seen.length} samples), member ids seen by the broker ${members.size}, ` +
      `states ${[...states].join(', ')}\n`,
  );

  // The load was a backlog: more than a round of fixed chunks (6 x 2,000 events) left to apply.
  expect(total - committed).toBeGreaterThan(12_000);
  // It made progress under the load, and answered its metrics throughout.
  expect(committed).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThanOrEqual(10);
  expect(Math.max(...seen, after ?? 0)).toBe(1);
  // The broker's side: one member id a group from start to end, never out of either.
  expect(members.size).toBe(2);
  expect([...states]).toEqual(['Stable']);
}, 300_000);

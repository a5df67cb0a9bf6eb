/**
 * The sharing service stays in its group under three times the lookup benchmark's ingest, with a
 * process beside it that keeps a core busy. The service runs as a process of its own with its
 * default chunk limit (500 events, 6 partitions at once), as in the benchmark where it was evicted
 * for 25 s: rounds of 3,000 events on a loaded store outlasted its session.
 *
 * It counts the member's joins of the group (`sharing_group_joins_total`): one at start, and one
 * more for every rebalance, an eviction included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateEventStream } from '../../support/event-stream';
import { freePort } from '../../support/fixtures';
import { sharingHarness } from '../../support/sharing';

/** The lookup benchmark published about 400 events/s while it ran; three times that. */
const EVENTS_PER_SECOND = 1_200;
const LOAD_MS = 40_000;
const TICK_MS = 250;

const harness = sharingHarness({ partitions: 6, batchSize: 500 });
let hog: ChildProcess | undefined;

beforeAll(() => harness.setUp());
afterAll(async () => {
  hog?.kill('SIGKILL');
  await harness.tearDown();
});

/** The service's count of its joins of the group, from its metrics; undefined until it answers. */
async function joins(port: number): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const line = (await response.text()).split('\n').find((l) => l.startsWith('sharing_group_joins_total '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

it('keeps its one generation of the group under three times the load, with a CPU hog beside it', async () => {
  const port = await freePort();
  harness.spawnProcess(undefined, port);
  for (let tries = 0; (await joins(port)) !== 1; tries += 1) {
    if (tries > 240) throw new Error('the sharing process did not join its group within 60 s');
    await sleep(250);
  }

  hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const stream = generateEventStream((EVENTS_PER_SECOND * LOAD_MS) / 1_000);
  const perTick = (EVENTS_PER_SECOND * TICK_MS) / 1_000;
  const began = Date.now();
  const seen: number[] = [];
  let published = 0;
  while (published < stream.length && Date.now() - began < LOAD_MS) {
    const due = Math.min(stream.length, Math.floor(((Date.now() - began) / TICK_MS + 1) * perTick));
    if (due > published) {
      await harness.publish(stream.slice(published, due));
      published = due;
    }
    const count = await joins(port);
    if (count !== undefined) seen.push(count);
    await sleep(TICK_MS);
  }
  const loadMs = Date.now() - began;
  hog.kill('SIGKILL');
  const { committed, total } = await harness.progress();
  // Past the session timeout, so that an eviction during the load would have been counted.
  await sleep(12_000);
  const after = await joins(port);
  process.stdout.write(
    `no-eviction: ${published} events in ${(loadMs / 1000).toFixed(1)} s ` +
      `(${Math.round((published * 1000) / loadMs)}/s), ${committed} applied by its end, ` +
      `joins of the group ${after ?? 'unknown'}\n`,
  );

  // The load was a backlog: more than one old-style round (6 x 500 events) left to apply.
  expect(total - committed).toBeGreaterThan(3_000);
  // It made progress under it, and answered its metrics throughout.
  expect(committed).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThanOrEqual(10);
  expect(Math.max(...seen, after ?? 0)).toBe(1);
}, 180_000);

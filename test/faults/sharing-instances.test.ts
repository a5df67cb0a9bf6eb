/**
 * `npm run test:faults`: three instances of the sharing service, each a process of its own in one
 * consumer group, under load through the four agencies' connectors; one is killed with SIGKILL.
 *
 * It passes when the survivors take every partition of the killed one (it prints how long that
 * took: from the kill to the first chunk committed from each of them), when the views equal a
 * clean replay of the topics by hash, when every event and change is committed and nothing is
 * dead-lettered, and when no view document was written by two instances at once: each instance
 * records every write command it made (`SHARING_TRACE_FILE`, with the ids and when it was sent
 * and acknowledged), and no two instances' commands on one document overlap.
 *
 * `LIENTHONG_SHARING_DIRECT=1` runs the instances without the internal topic of changes, each
 * applying its domain partitions' events to whatever documents they name: the check that the test
 * can fail.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, AssignerProtocol } from 'kafkajs';
import { changesGroupOf } from '../../services/sharing/changes';
import { type SharingTraceEntry } from '../../services/sharing/sharing-service';
import { freePort, until as untilHolds } from '../support/fixtures';
import { replayDifferences, sharingHarness } from '../support/sharing';
import { agencyConnectors, agencyLoad } from './connector-load';

const INSTANCES = 3;
const BATCH = 10;
const PAUSE_MS = 300;
const RECORDS_PER_AGENCY = 40_000;
const STEADY_MS = 30_000;
const AFTER_KILL_MS = 20_000;
const DIRECT = process.env.LIENTHONG_SHARING_DIRECT === '1';

const log = (line: string): void => {
  process.stderr.write(`[sharing-instances] ${line}\n`);
};

const harness = sharingHarness({ partitions: 3 });
const connectors = agencyConnectors(harness.topics);
const traceOf = (i: number): string => join(tmpdir(), `${harness.groupId}-trace-${i}.ndjson`);
let admin: Admin;

beforeAll(async () => {
  await harness.setUp();
  for (const c of connectors) await c.harness.start();
  admin = harness.kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  for (const c of connectors) await c.harness.dispose();
  await harness.tearDown();
  for (let i = 0; i < INSTANCES; i += 1) rmSync(traceOf(i), { force: true });
});

/** Polls `check` until it holds; an error thrown by it (a broker away) counts as not yet. */
const until = (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> =>
  untilHolds(what, check, timeoutMs, { pollMs: 250, tolerant: true });

type Traced = SharingTraceEntry & { pid: number };

function traces(): Traced[] {
  const out: Traced[] = [];
  for (let i = 0; i < INSTANCES; i += 1) {
    if (!existsSync(traceOf(i))) continue;
    for (const line of readFileSync(traceOf(i), 'utf8').split('\n')) {
      // The last line of a killed process may be cut short.
      if (line.trim() !== '') {
        try {
          out.push(JSON.parse(line) as Traced);
        } catch {
          /* cut short by the kill */
        }
      }
    }
  }
  return out;
}

/** Each member's partitions in both its groups (the domain topics', the changes'), by its client id (`sharing-<i>`). */
async function assignments(): Promise<Map<string, { topic: string; partition: number }[]>> {
  const { groups } = await admin.describeGroups([harness.groupId, changesGroupOf(harness.groupId)]);
  const out = new Map<string, { topic: string; partition: number }[]>();
  for (const member of groups.flatMap((g) => g.members)) {
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    out.set(member.clientId, [
      ...(out.get(member.clientId) ?? []),
      ...Object.entries(decoded?.assignment ?? {}).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      ),
    ]);
  }
  return out;
}

it(`keeps one writer per document across ${INSTANCES} instances, and the views, when one is killed`, async () => {
  const load = agencyLoad(connectors, RECORDS_PER_AGENCY, { batch: BATCH, pauseMs: PAUSE_MS });
  const children: ChildProcess[] = [];
  for (let i = 0; i < INSTANCES; i += 1) {
    children.push(
      harness.spawnProcess(undefined, await freePort(), {
        KAFKA_CLIENT_ID: `sharing-${i}`,
        SHARING_TRACE_FILE: traceOf(i),
        ...(DIRECT ? { SHARING_MODE: 'direct' } : {}),
      }),
    );
  }
  let killAt = 0;
  let victimPartitions: { topic: string; partition: number }[] = [];
  const began = Date.now();
  try {
    load.start();
    await until(
      `${INSTANCES} members`,
      async () => {
        const a = await assignments();
        return a.size === INSTANCES && [...a.values()].every((p) => p.length > 0);
      },
      120_000,
    );
    await sleep(STEADY_MS);
    // The victim: the member holding the most partitions that carry writes.
    const held = await assignments();
    const [victimId, partitions] = [...held].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
    victimPartitions = partitions;
    const victim = children[Number(victimId.replace('sharing-', ''))];
    if (!victim?.pid) throw new Error(`no process for member ${victimId}`);
    log(
      `SIGKILL ${victimId} (pid ${victim.pid}) at ${((Date.now() - began) / 1000).toFixed(1)} s, holding ${partitions
        .map((p) => `${p.topic.replace(harness.topicPrefix, '')}/${p.partition}`)
        .join(', ')}`,
    );
    killAt = Date.now();
    victim.kill('SIGKILL');
    // Taken over: another member committed a chunk of each of the victim's partitions since.
    await until(
      "the survivors to commit from every partition of the victim's",
      async () => {
        const after = traces().filter((t) => t.kind === 'commit' && t.at > killAt && t.pid !== victim.pid);
        return victimPartitions.every((p) =>
          after.some((t) => t.kind === 'commit' && t.topic === p.topic && t.partition === p.partition),
        );
      },
      180_000,
    );
    await sleep(AFTER_KILL_MS);
  } finally {
    await load.stop();
  }

  await until('every event and change committed', () => harness.drained(), 600_000);
  const victimPid = children.find((c) => c.signalCode === 'SIGKILL')?.pid;
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');

  const failures: string[] = [];
  const all = traces();
  // Takeover: from the kill to the first chunk a survivor committed from each of the victim's partitions.
  const takeovers = victimPartitions.map((p) => {
    const first = all
      .filter(
        (t): t is Extract<Traced, { kind: 'commit' }> =>
          t.kind === 'commit' && t.at > killAt && t.pid !== victimPid && t.topic === p.topic,
      )
      .filter((t) => t.partition === p.partition)
      .sort((a, b) => a.at - b.at)[0];
    return { ...p, ms: first ? first.at - killAt : Number.NaN };
  });

  // No document written by two instances at once: the write commands' spans, per document.
  const spans = new Map<string, { pid: number; from: number; to: number }[]>();
  let commands = 0;
  for (const t of all) {
    if (t.kind !== 'write') continue;
    commands += 1;
    for (const id of t.ids) {
      const key = `${t.collection}/${id}`;
      spans.set(key, [...(spans.get(key) ?? []), { pid: t.pid, from: t.sentAt, to: t.at }]);
    }
  }
  const overlapping: string[] = [];
  let sharedDocs = 0;
  for (const [key, list] of spans) {
    if (new Set(list.map((s) => s.pid)).size > 1) sharedDocs += 1;
    const sorted = [...list].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i += 1) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      if (a && b && a.pid !== b.pid && b.from < a.to) {
        overlapping.push(`${key}: pid ${a.pid} ${a.from}-${a.to} and pid ${b.pid} ${b.from}-${b.to}`);
        break;
      }
    }
  }
  if (overlapping.length > 0)
    failures.push(
      `${overlapping.length} documents written by two instances at once: ${overlapping.slice(0, 3).join('; ')}`,
    );

  // Nothing dead-lettered, and the views against a clean replay of the topics, by hash.
  const dead = await admin.fetchTopicOffsets(harness.deadLetterTopic);
  const deadCount = dead.reduce((sum, p) => sum + Number(p.high), 0);
  if (deadCount > 0) failures.push(`${deadCount} dead letters`);
  const report = await harness.dryRunReplay('test-sharing-instances-rebuild');
  failures.push(...replayDifferences(report));
  if (load.rejected.length > 0) failures.push(`records rejected: ${load.rejected.slice(0, 5).join(', ')}`);
  if (takeovers.some((t) => Number.isNaN(t.ms)))
    failures.push('a partition of the victim was never taken over');

  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  process.stdout.write(
    [
      '',
      `sharing-instances (${DIRECT ? 'direct, without the changes topic' : 'through the changes topic'}): ` +
        `${INSTANCES} instances, ${load.accepted.length} records answered 2xx, ${report.events} events replayed, ` +
        `${commands} write commands, ${spans.size} documents, ${sharedDocs} written by more than one instance over the run`,
      `takeover after SIGKILL (first chunk committed by a survivor), per partition of the victim: ` +
        takeovers
          .map((t) => `${t.topic.replace(harness.topicPrefix, '')}/${t.partition} ${seconds(t.ms)}`)
          .join(', '),
      `takeover: first ${seconds(Math.min(...takeovers.map((t) => t.ms)))}, all ${seconds(Math.max(...takeovers.map((t) => t.ms)))}`,
      `documents written by two instances at once: ${overlapping.length}`,
      `views equal a clean replay: ${failures.some((f) => f.startsWith('view ')) ? 'NO' : 'yes'}`,
      ...failures.slice(0, 20).map((f) => `FAIL ${f}`),
      '',
    ].join('\n'),
  );
  expect(failures).toEqual([]);
  expect(takeovers.length).toBeGreaterThan(0);
}, 1_800_000);

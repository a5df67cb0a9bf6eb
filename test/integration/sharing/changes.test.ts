import { changesGroupOf } from '../../../services/sharing/changes';
import { type SharingService, type SharingTraceEntry } from '../../../services/sharing/sharing-service';
import { readCatalog } from '../../../services/sharing/view-catalog';
import { generateEventStream } from '../../support/event-stream';
import { until } from '../../support/fixtures';
import { sharingHarness } from '../../support/sharing';

/**
 * The service routing through its internal topic of changes (`services/sharing/changes.ts`), as
 * two members of one group: the views equal a direct replay of the same events, document by
 * document, by hash. The events include enterprise amendments and vehicle transfers, whose
 * citizens' and owners' documents are changed by dependent changes that carry the home document.
 */
const EVENTS = 600;
const traced: SharingTraceEntry[] = [];
const harness = sharingHarness({
  partitions: 3,
  batchSize: 200,
  routed: true,
  changesPartitions: 4,
  service: { trace: (entry) => traced.push(entry) },
});

beforeAll(async () => {
  await harness.setUp();
  await harness.publish(generateEventStream(EVENTS, 29));
});

afterAll(() => harness.tearDown());

it('gives two members of one group, each document written by one of them, the views of a direct replay', async () => {
  const first: SharingService = await harness.start();
  const second = await harness.start();
  try {
    await until(
      'every event and change committed',
      async () => {
        const { committed, total } = await harness.progress();
        return committed === total && total > EVENTS;
      },
      150_000,
    );
    /** A histogram's count for one label's value, both members together. */
    const counted = async (histogram: string, label: string): Promise<number> => {
      let count = 0;
      for (const member of [first, second]) {
        const text = await (await fetch(`${member.url()}/metrics`)).text();
        const pattern = new RegExp(`^${histogram}_count\\{[^}]*${label}[^}]*\\} (\\d+)`, 'm');
        count += Number(pattern.exec(text)?.[1] ?? 0);
      }
      return count;
    };
    // Both senders are timed: the first stage routing events, and rounds sending dependents.
    expect(await counted('sharing_changes_send_seconds', 'from="route"')).toBeGreaterThan(0);
    expect(await counted('sharing_changes_send_seconds', 'from="round"')).toBeGreaterThan(0);
    // And every part of the rounds.
    for (const stage of ['catalog', 'load', 'apply', 'dependents', 'write'])
      expect(await counted('sharing_round_stage_seconds', `stage="${stage}"`)).toBeGreaterThan(0);
    // The trace tells each send of changes: every document written had a change sent for it, which
    // Kafka held before the command was sent.
    const viewOf = new Map(Object.entries(await readCatalog(harness.db())).map(([view, c]) => [c, view]));
    const sentAt = new Map<string, number>();
    for (const entry of traced)
      if (entry.kind === 'send')
        for (const key of entry.keys) sentAt.set(key, Math.min(entry.at, sentAt.get(key) ?? Infinity));
    expect(new Set(traced.flatMap((e) => (e.kind === 'send' ? [e.from] : [])))).toEqual(
      new Set(['route', 'round']),
    );
    const late = traced.flatMap((entry) =>
      entry.kind === 'write'
        ? entry.ids
            .map((id) => `${viewOf.get(entry.collection)}/${id}`)
            .filter((key) => !((sentAt.get(key) ?? Infinity) <= entry.sentAt))
        : [],
    );
    expect(late).toEqual([]);
    // Each send's times come in order: the first stage took the chunk in hand (routed changes
    // only), submitted its changes, their request left, Kafka acknowledged it.
    const disordered = traced.filter(
      (e) =>
        e.kind === 'send' &&
        !(
          (e.from === 'route') === (e.chunkAt !== undefined) &&
          (e.chunkAt ?? e.submittedAt) <= e.submittedAt &&
          e.submittedAt <= e.requestAt &&
          e.requestAt <= e.at
        ),
    );
    expect(disordered).toEqual([]);
  } finally {
    await harness.stop();
    await first.stop();
  }
  const routed = first.stats().routed + second.stats().routed;
  expect(routed).toBeGreaterThanOrEqual(EVENTS);
  expect(first.stats().deadLettered + second.stats().deadLettered).toBe(0);

  const clean = await harness.cleanReplay('direct', 150_000);
  expect(clean.applied).toBeGreaterThan(0);
  expect(await harness.viewDifferences(clean.dbName)).toEqual([]);
  await harness.client().db(clean.dbName).dropDatabase();
}, 360_000);

it('starts a new changes group where the domain group had read the changes topic, as members of earlier versions did', async () => {
  // Earlier versions read both topics in the one group: their offsets of the changes topic are
  // put back there, and the changes group is removed, as if it had never been.
  const admin = harness.kafka.admin();
  await admin.connect();
  try {
    const changesGroup = changesGroupOf(harness.groupId);
    const [read] = await admin.fetchOffsets({ groupId: changesGroup, topics: [harness.changesTopic] });
    const partitions = read?.partitions.filter((p) => p.offset !== '-1') ?? [];
    expect(partitions.length).toBeGreaterThan(0);
    await admin.setOffsets({ groupId: harness.groupId, topic: harness.changesTopic, partitions });
    await admin.deleteGroups([changesGroup]);
    const changesAt = async (): Promise<number> =>
      (await admin.fetchTopicOffsets(harness.changesTopic)).reduce((n, p) => n + Number(p.high), 0);
    const before = await changesAt();

    const service = await harness.start();
    try {
      await harness.publish(generateEventStream(60, 31));
      await until(
        'the new events and their changes committed',
        async () => {
          const { committed, total } = await harness.progress();
          return committed === total && total > EVENTS + 60;
        },
        150_000,
      );
      // Only the changes routed since are applied: none of the topic's earlier ones again.
      const { applied, noop, deadLettered } = service.stats();
      expect(applied + noop + deadLettered).toBe((await changesAt()) - before);
      expect(applied).toBeGreaterThan(0);
    } finally {
      await harness.stop();
    }
  } finally {
    await admin.disconnect();
  }
}, 240_000);

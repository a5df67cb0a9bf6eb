import { createLogger } from '../../../services/platform/logger';
import { VIEW_NAMES, type ViewDoc } from '../../../services/sharing/projection';
import {
  REBUILD_GROUP_PREFIX,
  REBUILD_STEPS,
  type RebuildOptions,
  rebuildViews,
} from '../../../services/sharing/rebuild';
import {
  claimGeneration,
  readCatalog,
  readGeneration,
  VIEW_GENERATIONS,
  type ViewGeneration,
} from '../../../services/sharing/view-catalog';
import { registryClient } from '../../support/connector';
import { sharingHarness } from '../../support/sharing';
import { type StoryEvent, STORY, storyEvents } from '../../support/story';

const harness = sharingHarness();
const events = storyEvents();

beforeAll(async () => {
  await harness.setUp();
  await harness.start();
  await harness.publish(events);
  await harness.waitForEvents(events.length);
});

afterAll(() => harness.tearDown());

const rebuild = (dryRun: boolean, stages: string[], onStep?: RebuildOptions['onStep']) =>
  rebuildViews({
    ...(onStep ? { onStep } : {}),
    kafka: harness.kafka,
    mongo: harness.client(),
    dbName: harness.dbName,
    registry: registryClient(),
    logger: createLogger({ name: 'it-rebuild', level: 'silent' }),
    topics: harness.topics,
    liveGroupId: harness.groupId,
    dryRun,
    progress: (stage) => stages.push(stage),
  });

/** Every collection of the test's database with its documents, and the consumer groups. */
const everything = async () => {
  const db = harness.db();
  const out: Record<string, unknown[]> = {};
  for (const { name } of await db.listCollections().toArray()) {
    out[name] = (await db.collection(name).find({}).toArray()).sort((a, b) =>
      String(a._id) < String(b._id) ? -1 : 1,
    );
  }
  const admin = harness.kafka.admin();
  await admin.connect();
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(REBUILD_GROUP_PREFIX));
  await admin.disconnect();
  return { collections: out, rebuildGroups: groups.sort() };
};

it('finds a document that drifted from the events, by hash, and a dry run changes nothing', async () => {
  const before = await harness.snapshot();
  // Drift: someone edits a view by hand.
  await harness
    .db()
    .collection<ViewDoc>('enterprises')
    .updateOne({ _id: STORY.enterprise }, { $set: { 'registration.name': 'Sửa tay' } });
  const untouched = await everything();
  const stages: string[] = [];
  const report = await rebuild(true, stages);
  // Not a collection, a document, a catalog generation or a consumer group more or less.
  expect(await everything()).toEqual(untouched);
  expect(report.manifest.enterprises.documents).toBe(before.enterprises.length);
  expect(report.swapped).toBe(false);
  expect(report.events).toBe(events.length);
  expect(report.comparison.enterprises).toMatchObject({
    different: [STORY.enterprise],
    onlyLeft: [],
    onlyRight: [],
  });
  for (const view of ['citizens', 'vehicles', 'dossiers'] as const) {
    expect(report.comparison[view]).toMatchObject({ different: [], onlyLeft: [], onlyRight: [] });
    expect(report.comparison[view].left).toBe(before[view].length);
  }
  expect(stages).toContain('replay');
  expect(await readCatalog(harness.db())).toEqual({
    citizens: 'citizens',
    enterprises: 'enterprises',
    vehicles: 'vehicles',
    dossiers: 'dossiers',
  });
  const collections = (await harness.db().listCollections().toArray()).map((c) => c.name);
  expect(collections.filter((c) => c.includes('__'))).toEqual([]);
});

it('swaps the rebuilt views in, and the live service goes on writing to them', async () => {
  const stages: string[] = [];
  const report = await rebuild(false, stages);
  expect(report.swapped).toBe(true);
  expect(stages).toContain('catch up');
  const catalog = await readCatalog(harness.db());
  for (const view of VIEW_NAMES) expect(catalog[view]).toBe(`${view}__${report.generation}`);
  // The generations: the fence over the old collections, then the swap, checked against the replay.
  const log = await harness
    .db()
    .collection<ViewGeneration>(VIEW_GENERATIONS)
    .find({})
    .sort({ _id: 1 })
    .toArray();
  expect(log.map((g) => [g._id, g.reason, g.collections.citizens])).toEqual([
    [1, 'fence', 'citizens'],
    [2, 'swap', `citizens__${report.generation}`],
  ]);
  expect(log[1]?.manifest).toEqual(report.manifest);
  expect(report.dropped).toEqual(expect.arrayContaining(['citizens', 'enterprises', 'vehicles', 'dossiers']));
  const enterprise = await harness
    .db()
    .collection<ViewDoc>(catalog.enterprises)
    .findOne({ _id: STORY.enterprise });
  expect(enterprise).toMatchObject({ registration: { name: 'Công ty TNHH Liên Thông Xanh' } });
  const collections = (await harness.db().listCollections().toArray()).map((c) => c.name);
  expect(collections).not.toContain('enterprises');

  // The live consumer reads the catalog at each batch: a new event lands in the rebuilt view.
  const debt = events.find((e) => e.event.eventType === 'TaxDebtUpdated');
  if (!debt) throw new Error('the story has no debt');
  const { applied, noop, deadLettered } = harness.service().stats();
  await harness.publish([
    { ...debt, event: { ...debt.event, sourceVersion: 5, eventId: '7d1a1c52-0000-5000-8000-000000000005' } },
  ]);
  await harness.waitForEvents(applied + noop + deadLettered + 1);
  expect(harness.service().stats().applied).toBe(applied + 1);
  const updated = await harness
    .db()
    .collection<ViewDoc>(catalog.enterprises)
    .findOne({ _id: STORY.enterprise });
  expect(updated).toMatchObject({ tax: { [STORY.enterprise]: { source: { sourceVersion: 5 } } } });
});

/** The story's debt again, at a newer version: it changes the enterprise's `tax` section. */
const debtAt = (version: number): StoryEvent => {
  const debt = events.find((e) => e.event.eventType === 'TaxDebtUpdated');
  if (!debt) throw new Error('the story has no debt');
  const eventId = `7d1a1c52-0000-5000-8000-${String(version).padStart(12, '0')}`;
  return { ...debt, event: { ...debt.event, sourceVersion: version, eventId } };
};

const taxVersion = async (): Promise<unknown> => {
  const catalog = await readCatalog(harness.db());
  const doc = await harness.db().collection<ViewDoc>(catalog.enterprises).findOne({ _id: STORY.enterprise });
  return (doc?.tax as Record<string, { source: { sourceVersion: number } }> | undefined)?.[STORY.enterprise]
    ?.source.sourceVersion;
};

const untilCommitted = async (): Promise<void> => {
  for (;;) {
    const { committed, total } = await harness.progress();
    if (committed === total) return;
    await new Promise((r) => setTimeout(r, 200));
  }
};

it('holds the live consumer at the fence, and what arrived meanwhile lands in the rebuilt views', async () => {
  let whileFenced: { committed: number; total: number } | undefined;
  const report = await rebuild(false, [], async (step) => {
    if (step !== REBUILD_STEPS.CAUGHT_UP) return;
    // After the handover offsets were taken, before the swap: the live consumer fetches it at
    // once, and must neither write it to the old views (the rebuilt ones would miss it) nor commit it.
    await harness.publish([debtAt(6)]);
    await new Promise((r) => setTimeout(r, 3_000));
    whileFenced = await harness.progress();
    expect(await taxVersion()).toBe(5);
  });
  expect(report.swapped).toBe(true);
  expect(whileFenced && whileFenced.total - whileFenced.committed).toBe(1);
  await untilCommitted();
  expect(await readCatalog(harness.db())).toMatchObject({ enterprises: `enterprises__${report.generation}` });
  expect(await taxVersion()).toBe(6);
});

it('refuses a swap whose generation was claimed first (its fence lapsed), and changes nothing', async () => {
  const before = await readGeneration(harness.db());
  const attempt = rebuild(false, [], async (step) => {
    if (step !== REBUILD_STEPS.CAUGHT_UP) return;
    // What the live consumer does when a fence outlives its lease: it takes the collections back.
    const fence = await readGeneration(harness.db());
    await claimGeneration(harness.db(), {
      _id: fence._id + 1,
      collections: fence.collections,
      fence: null,
      reason: 'fence-expired',
      by: 'live',
      at: new Date(),
    });
  });
  await expect(attempt).rejects.toThrow(/claimed before the swap/);
  const after = await readGeneration(harness.db());
  expect(after).toMatchObject({ _id: before._id + 2, reason: 'fence-expired', fence: null });
  expect(after.collections).toEqual(before.collections);
  // The shadow went with the failed rebuild; the views in force stayed.
  const collections = (await harness.db().listCollections().toArray()).map((c) => c.name);
  expect(collections.filter((c) => c.includes('__') && !c.endsWith('_archive')).sort()).toEqual(
    Object.values(before.collections).sort(),
  );
  // And the live consumer goes on writing them.
  await harness.publish([debtAt(7)]);
  await untilCommitted();
  expect(await taxVersion()).toBe(7);
});

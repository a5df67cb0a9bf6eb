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
  LIVE_COLLECTIONS,
  readCatalog,
  readGeneration,
  VIEW_GENERATIONS,
  type ViewGeneration,
  ViewsFencedError,
  writableCollectionsReader,
} from '../../../services/sharing/view-catalog';
import { taxCodeCheckDigit } from '../../../connectors/runtime/identifiers';
import { registryClient } from '../../support/connector';
import { sharingHarness } from '../../support/sharing';
import { type StoryEvent, STORY, storyEvents } from '../../support/story';

// Longer than the bus's 1 s, so that a rebuild that did not wait it out would lose messages to the
// old views often enough for the test below to see it.
const CATALOG_READING_MS = 2_500;
const harness = sharingHarness({ service: { catalogReadingMs: CATALOG_READING_MS } });
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
    catalogReadingMs: CATALOG_READING_MS,
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

  // The live consumer's reading of the catalog did not outlast the fence: a new event lands in the rebuilt view.
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

it('keeps a reading of the catalog without a fence for its time from the asking, and never a fence', async () => {
  const db = harness.client().db(`${harness.dbName}_catalog`);
  let now = 0;
  const read = writableCollectionsReader(
    db,
    () => Date.now(),
    1_000,
    () => now,
  );
  expect(await read()).toEqual(LIVE_COLLECTIONS);
  const fenced: ViewGeneration = {
    _id: 1,
    collections: { ...LIVE_COLLECTIONS },
    fence: { rebuild: 'r1', until: new Date(Date.now() + 60_000) },
    reason: 'fence',
    by: 'r1',
    at: new Date(),
  };
  expect(await claimGeneration(db, fenced)).toBe(true);
  now = 999;
  expect(await read()).toEqual(LIVE_COLLECTIONS);
  now = 1_000;
  await expect(read()).rejects.toThrow(ViewsFencedError);
  const shadow = { citizens: 'c2', enterprises: 'e2', vehicles: 'v2', dossiers: 'd2' };
  expect(
    await claimGeneration(db, { ...fenced, _id: 2, collections: shadow, fence: null, reason: 'swap' }),
  ).toBe(true);
  // A moment later: the fence was not kept, so the swap is seen at once.
  now = 1_001;
  expect(await read()).toEqual(shadow);
  await db.dropDatabase();
});

/** A tax debt of an enterprise of its own, the `n`th: each lands in a document nobody else writes. */
const debtOfEnterprise = (n: number): StoryEvent => {
  const debt = events.find((e) => e.event.eventType === 'TaxDebtUpdated');
  if (!debt || debt.event.eventType !== 'TaxDebtUpdated') throw new Error('the story has no debt');
  let first9 = '';
  let check: number | undefined;
  for (let last = 0; check === undefined; last += 1) {
    first9 = `0109${String(n).padStart(4, '0')}${last}`;
    check = taxCodeCheckDigit(first9);
  }
  const code = `${first9}${check}`;
  const eventId = `7d1a1c52-0000-5000-9000-${String(n).padStart(12, '0')}`;
  const payload = debt.event.payload['vn.hanoi.lienthong.tax.TaxDebtUpdated'];
  return {
    topic: 'tax',
    key: code,
    event: {
      ...debt.event,
      eventId,
      sourceRecordId: `debt-${code}`,
      sourceVersion: 1,
      subjects: { ...debt.event.subjects, enterpriseCodes: [code] },
      payload: { 'vn.hanoi.lienthong.tax.TaxDebtUpdated': { ...payload, taxCode: code } },
    },
  };
};

it('hands over only once no live round can begin on a reading older than the fence', async () => {
  // Events all through the rebuild keep the live writer's reading of the catalog fresh up to the
  // fence. Had the rebuild taken its handover offsets at once, the events of the reading's last
  // moments would go to the old views only, and the rebuilt ones, swapped in, would not have them.
  const published: string[] = [];
  let publishing = true;
  const stream = (async () => {
    for (let n = 0; publishing; n += 1) {
      const debt = debtOfEnterprise(n);
      await harness.publish([debt]);
      published.push(debt.key);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let report: Awaited<ReturnType<typeof rebuild>>;
  try {
    report = await rebuild(false, []);
  } finally {
    publishing = false;
    await stream;
  }
  expect(report.swapped).toBe(true);
  await untilCommitted();
  const catalog = await readCatalog(harness.db());
  expect(catalog.enterprises).toBe(`enterprises__${report.generation}`);
  const found = await harness
    .db()
    .collection<ViewDoc>(catalog.enterprises)
    .find({ _id: { $in: published } }, { projection: { _id: 1 } })
    .toArray();
  expect(published.length).toBeGreaterThan(20);
  expect(published.filter((code) => !found.some((doc) => doc._id === code))).toEqual([]);
});

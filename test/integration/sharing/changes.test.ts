import { VIEW_NAMES } from '../../../services/sharing/projection';
import { type SharingService } from '../../../services/sharing/sharing-service';
import { collectionHashes, compareHashes } from '../../../services/sharing/view-hash';
import { generateEventStream } from '../../support/event-stream';
import { sharingHarness } from '../../support/sharing';

/**
 * The service routing through its internal topic of changes (`services/sharing/changes.ts`), as
 * two members of one group: the views equal a direct replay of the same events, document by
 * document, by hash. The events include enterprise amendments and vehicle transfers, whose
 * citizens' and owners' documents are changed by dependent changes that carry the home document.
 */
const EVENTS = 600;
const harness = sharingHarness({ partitions: 3, batchSize: 200, routed: true, changesPartitions: 4 });

beforeAll(async () => {
  await harness.setUp();
  await harness.publish(generateEventStream(EVENTS, 29));
});

afterAll(() => harness.tearDown());

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

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
  } finally {
    await harness.stop();
    await first.stop();
  }
  const routed = first.stats().routed + second.stats().routed;
  expect(routed).toBeGreaterThanOrEqual(EVENTS);
  expect(first.stats().deadLettered + second.stats().deadLettered).toBe(0);

  const clean = { dbName: `${harness.dbName}_direct`, groupId: `${harness.groupId}-direct` };
  const direct = await harness.start(clean);
  try {
    await until(
      'the direct replay',
      async () => {
        const { committed, total } = await harness.progress(clean.groupId);
        return committed === total;
      },
      150_000,
    );
  } finally {
    await harness.stop();
  }
  expect(direct.stats().applied).toBeGreaterThan(0);
  for (const view of VIEW_NAMES) {
    const routedViews = await collectionHashes(harness.db(), view);
    const replayed = await collectionHashes(harness.client().db(clean.dbName), view);
    const diff = compareHashes(routedViews, replayed);
    expect({ view, ...diff, different: diff.different.slice(0, 5) }).toEqual({
      view,
      left: replayed.size,
      right: replayed.size,
      onlyLeft: [],
      onlyRight: [],
      different: [],
    });
    expect(replayed.size).toBeGreaterThan(0);
  }
  await harness.client().db(clean.dbName).dropDatabase();
}, 360_000);

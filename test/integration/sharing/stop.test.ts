import { changesGroupOf, sharingGroups } from '../../../services/sharing/changes';
import { type SharingTraceEntry } from '../../../services/sharing/sharing-service';
import { generateEventStream } from '../../support/event-stream';
import { until } from '../../support/fixtures';
import { sharingHarness } from '../../support/sharing';

/**
 * A stop in the middle of the stream, routed through the changes topic as deployed: the chunks in
 * hand finish, and every chunk the service finished is committed before its consumers leave, so
 * that the member taking its partitions over starts after them instead of applying them again.
 * kafkajs drops a commit once its consumer is stopping, so the service commits before it stops
 * its consumers.
 */
const EVENTS = 3_000;
let rounds = 0;
let stopped: Promise<void> | undefined;
const harness = sharingHarness({
  partitions: 3,
  batchSize: 20,
  routed: true,
  changesPartitions: 4,
  service: {
    trace(entry: SharingTraceEntry) {
      // The stop begins as the writer's second round ends, with chunks of both stages in hand.
      if (entry.kind === 'round' && ++rounds === 2) stopped = harness.service().stop();
    },
  },
});

beforeAll(async () => {
  await harness.setUp();
  await harness.publish(generateEventStream(EVENTS, 41));
});

afterAll(() => harness.tearDown());

it('commits every chunk it finished before it leaves the group', async () => {
  await harness.start();
  await until('the stop begun', async () => stopped !== undefined, 120_000);
  await stopped;

  // What the service finished: the events it routed, and the changes it applied (or found
  // applied already); the stream has no dead letters.
  const { routed, applied, noop, deadLettered } = harness.service().stats();
  expect(deadLettered).toBe(0);
  // The stop came mid-stream, with work done in both stages.
  expect(routed).toBeGreaterThan(0);
  expect(routed).toBeLessThan(EVENTS);
  expect(applied + noop).toBeGreaterThan(0);

  // Each group's committed offsets, summed over its partitions from the topics' start.
  const admin = harness.kafka.admin();
  await admin.connect();
  const committed: Record<string, number> = {};
  try {
    for (const group of sharingGroups(harness.groupId, Object.values(harness.topics), harness.changesTopic))
      for (const { partitions } of await admin.fetchOffsets(group))
        for (const { offset } of partitions)
          committed[group.groupId] = (committed[group.groupId] ?? 0) + Math.max(0, Number(offset));
  } finally {
    await admin.disconnect();
  }
  expect(committed).toEqual({
    [harness.groupId]: routed,
    [changesGroupOf(harness.groupId)]: applied + noop,
  });
}, 300_000);

import { type SharingDeps } from '../../../services/sharing/sharing-service';
import { DEAD_LETTER_HEADERS } from '../../../services/sharing/dead-letters';
import { generateEventStream } from '../../support/event-stream';
import { readMessages } from '../../support/kafka';
import { registryHarness } from '../../support/registry';
import { sharingHarness } from '../../support/sharing';

/**
 * The sharing service reading from a registry restored from an older state: a registry of its own,
 * on an empty log, that knows none of the ids the events were written with until the contracts are
 * registered in it again, in the same order, so that they get the same ids.
 */
const registries = registryHarness();
/** Another log of its own: a registry that stays empty. */
const emptyRegistries = registryHarness();
const stream = generateEventStream(40, 13).filter((e) => e.topic === 'dossier' || e.topic === 'tax');

afterAll(async () => {
  await registries.stopAll();
  await emptyRegistries.stopAll();
});

describe('a registry that comes back within the retry time', () => {
  const service: Partial<SharingDeps> = { unknownSchemaRetryMs: 120_000 };
  const harness = sharingHarness({ partitions: 2, batchSize: 10, service });

  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  it('holds the events while their schema ids are unknown, then applies every one and dead-letters none', async () => {
    const restored = await registries.start();
    service.registry = registries.client(restored, 'reader');
    await harness.publish(stream);
    await harness.start();
    // Long enough for several 404s and retries.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(harness.service().stats()).toMatchObject({ applied: 0, deadLettered: 0 });

    const ids = await registries.registerContracts(restored);
    const written = new Set(stream.map((e) => harness.encode(e.topic, e.event).readInt32BE(1)));
    // The precondition of the story: the restored registry gives the contracts their old ids.
    for (const id of written) expect(ids).toContain(id);
    await harness.waitForEvents(stream.length, 120_000);
    expect(harness.service().stats()).toMatchObject({ applied: stream.length, deadLettered: 0 });
  }, 300_000);
});

describe('a registry that does not come back within the retry time', () => {
  const service: Partial<SharingDeps> = { unknownSchemaRetryMs: 1_500 };
  const harness = sharingHarness({ partitions: 1, batchSize: 10, service });
  const few = stream.slice(0, 5);

  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  it('dead-letters the events SCHEMA_UNKNOWN once it has asked for that long, and moves on', async () => {
    const empty = await emptyRegistries.start();
    service.registry = emptyRegistries.client(empty, 'reader');
    await harness.publish(few);
    await harness.start();
    await harness.waitForEvents(few.length, 120_000);

    expect(harness.service().stats()).toMatchObject({ applied: 0, deadLettered: few.length });
    const letters = await readMessages(harness.kafka, harness.deadLetterTopic, few.length);
    for (const letter of letters) {
      expect(letter.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('SCHEMA_UNKNOWN');
      expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/has had no schema \d+ for \d+ s$/);
    }
  }, 300_000);
});

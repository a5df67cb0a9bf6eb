import { join } from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import { type LocalFerretDb } from '../../../deploy/local/local-ferretdb';
import { createLogger } from '../../../services/platform/logger';
import { createMongoClient } from '../../../services/platform/mongo';
import { DEAD_LETTER_HEADERS } from '../../../services/sharing/dead-letters';
import { MAP_BOUNDS } from '../../../services/sharing/map-bounds';
import { PROJECTIONS } from '../../../services/sharing/materializer';
import { type Projection } from '../../../services/sharing/projection';
import { generateEventStream, type StreamEvent } from '../../support/event-stream';
import { scratchDir, startPrivateStore } from '../../support/fixtures';
import { readMessages } from '../../support/kafka';
import { sharingHarness } from '../../support/sharing';
import { DAY, envelope, T0 } from '../../support/story';

/** The first `count` dead letters of the harness, by their headers and bytes. */
async function deadLettersOf(harness: ReturnType<typeof sharingHarness>, count: number) {
  const letters = await readMessages(harness.kafka, harness.deadLetterTopic, count);
  return letters.map((l) => ({
    code: l.headers[DEAD_LETTER_HEADERS.errorCode],
    topic: l.headers[DEAD_LETTER_HEADERS.topic],
    reason: l.headers[DEAD_LETTER_HEADERS.reason],
    value: l.rawValue?.toString('hex'),
  }));
}

describe('a projection that throws on one event', () => {
  const stream = generateEventStream(400, 31);
  const victim = stream[150] as StreamEvent;
  // The real projections, with the dossiers one failing on one event: a bug that one input triggers.
  const projections: Projection[] = PROJECTIONS.map((p) => ({
    ...p,
    evolve(current, sourced, id, read) {
      if (sourced.event.eventId === victim.event.eventId)
        throw new TypeError('Cannot read properties of undefined');
      return p.evolve(current, sourced, id, read);
    },
  }));
  const harness = sharingHarness({ partitions: 3, batchSize: 50, service: { projections } });

  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  it('dead-letters that event with PROJECTION_FAILED and its bytes, applies the others, and commits every partition to its end', async () => {
    await harness.publish(stream);
    await harness.start();
    await harness.waitForEvents(stream.length, 300_000);

    expect(harness.service().stats()).toMatchObject({ applied: stream.length - 1, noop: 0, deadLettered: 1 });
    expect(await harness.progress()).toEqual({ committed: stream.length, total: stream.length });
    const [letter] = await deadLettersOf(harness, 1);
    expect(letter).toMatchObject({
      code: 'PROJECTION_FAILED',
      topic: harness.topics[victim.topic],
      reason: expect.stringMatching(/projection threw TypeError$/),
      value: harness.encode(victim.topic, victim.event).toString('hex'),
    });
  }, 600_000);
});

describe('a document the events would take past the size limit', () => {
  const LIMIT = 8 * 1024;
  const dossier = '000.20.31.H26-261202-0777';
  const applicant = '001195004321';
  const subjects = { citizenIds: [applicant], dossierIds: [dossier] };
  const reception: StreamEvent = {
    topic: 'dossier',
    key: dossier,
    event: {
      ...envelope('dossier', 'HS-2026-0777', 1, T0, subjects),
      eventType: 'DossierReceived',
      payload: {
        'vn.hanoi.lienthong.dossier.DossierReceived': {
          dossierId: dossier,
          procedureCode: '1.010700',
          procedureName: 'Đăng ký sang tên xe',
          applicant: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: applicant } },
          receivingAgency: 'HN-TTHCC',
          channel: 'DESK',
          receivedAt: T0,
          dueAt: T0 + 86_400_000,
        },
      },
    },
  };
  // Each status change adds a timeline entry with a long note: about 1.2 KB of BSON each.
  const changes: StreamEvent[] = Array.from({ length: 12 }, (_, i) => ({
    topic: 'dossier',
    key: dossier,
    event: {
      ...envelope('dossier', 'HS-2026-0777', i + 2, T0 + (i + 1) * 60_000, subjects),
      eventType: 'DossierStatusChanged',
      payload: {
        'vn.hanoi.lienthong.dossier.DossierStatusChanged': {
          dossierId: dossier,
          status: i % 2 === 0 ? 'SUPPLEMENT_REQUESTED' : 'PROCESSING',
          handlingAgency: 'HN-PC08',
          changedAt: T0 + (i + 1) * 60_000,
          note: `Bổ sung giấy tờ lần ${i + 1}: ${'x'.repeat(1_000)}`,
        },
      },
    },
  }));
  const other = generateEventStream(8, 5);
  const harness = sharingHarness({ partitions: 2, batchSize: 5, service: { maxDocumentBytes: LIMIT } });

  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  it('dead-letters each event that would pass it with DOCUMENT_TOO_LARGE, keeps the document under it, and moves on', async () => {
    const stream = [reception, ...changes, ...other];
    await harness.publish(stream);
    await harness.start();
    await harness.waitForEvents(stream.length, 300_000);

    const stats = harness.service().stats();
    expect(stats.deadLettered).toBeGreaterThan(0);
    expect(stats.applied + stats.deadLettered).toBe(stream.length);
    expect(await harness.progress()).toEqual({ committed: stream.length, total: stream.length });
    const letters = await deadLettersOf(harness, stats.deadLettered);
    expect(new Set(letters.map((l) => l.code))).toEqual(new Set(['DOCUMENT_TOO_LARGE']));

    const doc = await harness.view('dossiers', dossier);
    expect(BSON.calculateObjectSize(doc as object)).toBeLessThanOrEqual(LIMIT);
    // The dossier holds the changes up to the limit, in order, and none after.
    const applied = Object.keys(doc?.timeline as object).length;
    expect(applied).toBe(1 + changes.length - stats.deadLettered);
    expect(doc?.dossier).toMatchObject({ source: { sourceVersion: applied } });
  }, 600_000);
});

describe('a store outage', () => {
  const scratch = scratchDir('apply-outage');
  let store: LocalFerretDb;
  let harness: ReturnType<typeof sharingHarness>;
  const stream = generateEventStream(300, 41);

  beforeAll(async () => {
    store = await startPrivateStore(join(scratch.path, 'ferretdb'));
    // The service on a store of its own, so that stopping it leaves the shared one alone.
    harness = sharingHarness({
      partitions: 3,
      batchSize: 50,
      service: {
        mongo: createMongoClient({
          uri: store.uri,
          appName: 'it-apply-outage',
          logger: createLogger({ name: 'it-apply-outage', level: 'silent' }),
          serverSelectionTimeoutMS: 1_000,
        }),
      },
    });
    await harness.setUp();
  });

  afterAll(async () => {
    await harness?.tearDown();
    await store?.stop();
    scratch.remove();
  });

  it('is retried until the store is back: nothing is dead-lettered, everything is applied', async () => {
    await harness.publish(stream.slice(0, 100));
    await harness.start();
    await harness.waitForEvents(100, 120_000);
    await store.kill();
    await harness.publish(stream.slice(100));
    // Long enough for rounds to fail against the missing store and be tried again.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(harness.service().stats().applied).toBe(100);
    await store.start();
    await store.waitReady();
    await harness.waitForEvents(stream.length, 300_000);

    expect(harness.service().stats()).toMatchObject({ applied: stream.length, deadLettered: 0 });
    expect(await harness.progress()).toEqual({ committed: stream.length, total: stream.length });
    const reader = new MongoClient(store.uri);
    try {
      const ids = new Set(stream.flatMap((e) => e.event.subjects.dossierIds));
      const dossiers = await reader.db(harness.dbName).collection('dossiers').countDocuments();
      expect(dossiers).toBe(ids.size);
    } finally {
      await reader.close();
    }
  }, 600_000);
});

describe("a plate's history past its bound", () => {
  const plate = '29A-777.07';
  const record = 'DKX-2026-777007';
  const owners = ['001195004321', '001089012345'];
  const party = (citizenId: string) => ({ 'vn.hanoi.lienthong.common.CitizenParty': { citizenId } });
  const bound = MAP_BOUNDS.vehicles.history as number;
  const transfers = bound + 4;
  const stream: StreamEvent[] = [
    {
      topic: 'vehicle',
      key: plate,
      event: {
        ...envelope('vehicle', record, 1, T0, { citizenIds: [owners[0] as string], plates: [plate] }),
        eventType: 'VehicleRegistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleRegistered': {
            plate,
            frameNumber: 'RLHRE7890PY777007',
            engineNumber: 'K20Z9777007',
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 5',
            owner: party(owners[0] as string),
            registeredAt: T0,
          },
        },
      },
    },
    // Sold back and forth between two citizens, once a day.
    ...Array.from({ length: transfers }, (_, i): StreamEvent => {
      const [from, to] = [owners[i % 2] as string, owners[(i + 1) % 2] as string];
      return {
        topic: 'vehicle',
        key: plate,
        event: {
          ...envelope('vehicle', record, i + 2, T0 + (i + 1) * DAY, {
            citizenIds: [from, to],
            plates: [plate],
          }),
          eventType: 'OwnershipTransferred',
          payload: {
            'vn.hanoi.lienthong.vehicle.OwnershipTransferred': {
              plate,
              previousOwner: party(from),
              newOwner: party(to),
              transferredAt: T0 + (i + 1) * DAY,
            },
          },
        },
      };
    }),
  ];
  const harness = sharingHarness({ partitions: 1, batchSize: 20 });

  beforeAll(() => harness.setUp());
  afterAll(() => harness.tearDown());

  it('keeps the newest entries in the document and moves the oldest to vehicles_archive', async () => {
    await harness.publish(stream);
    await harness.start();
    await harness.waitForEvents(stream.length, 300_000);

    const doc = await harness.view('vehicles', plate);
    const kept = Object.values(doc?.history as Record<string, { source: { sourceVersion: number } }>);
    expect(kept).toHaveLength(bound);
    expect(Math.min(...kept.map((e) => e.source.sourceVersion))).toBe(stream.length - bound + 1);
    expect(doc?.registration).toMatchObject({
      brand: 'VinFast',
      owner: { citizenId: owners[transfers % 2] },
    });
    const archived = await harness
      .db()
      .collection<{ docId: string; entry: { source: { sourceVersion: number } } }>('vehicles_archive')
      .find({ docId: plate })
      .toArray();
    expect(archived.map((a) => a.entry.source.sourceVersion).sort((a, b) => a - b)).toEqual(
      Array.from({ length: stream.length - bound }, (_, i) => i + 1),
    );
  }, 600_000);
});

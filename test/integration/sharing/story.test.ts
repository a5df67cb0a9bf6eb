import { sectionKey } from '../../../services/sharing/projection';
import { DEAD_LETTER_HEADERS } from '../../../services/sharing/dead-letters';
import { type SharingTraceEntry } from '../../../services/sharing/sharing-service';
import { readCatalog } from '../../../services/sharing/view-catalog';
import { toConfluentWire } from '../../../services/platform/avro';
import { readMessages } from '../../support/kafka';
import { sharingHarness, traceparentFor } from '../../support/sharing';
import { STORY, storyEvents } from '../../support/story';

// Unknown schema ids are asked for again for a second only, not the five minutes of production.
// Its trace is kept, as SHARING_TRACE_FILE writes it for the tests and the benchmarks.
const traced: SharingTraceEntry[] = [];
const harness = sharingHarness({
  service: { unknownSchemaRetryMs: 1_000, trace: (entry) => traced.push(entry) },
});

beforeAll(async () => {
  await harness.setUp();
  await harness.start();
});

afterAll(async () => {
  await harness.tearDown();
});

describe('the cross-agency story, through Kafka and the registry into the views', () => {
  const events = storyEvents();

  beforeAll(async () => {
    await harness.publish(events);
    await harness.waitForEvents(events.length);
  });

  it('shows the founder as the former representative, and the new one as current', async () => {
    const founder = await harness.view('citizens', STORY.founder);
    expect(founder).toMatchObject({
      identity: { citizenId: STORY.founder, birthProvinceCode: '001', sex: 'male', birthYear: 1989 },
      enterprises: {
        [STORY.enterprise]: {
          enterpriseCode: STORY.enterprise,
          name: 'Công ty TNHH Liên Thông Xanh',
          role: 'FORMER_LEGAL_REPRESENTATIVE',
          status: 'OPERATING',
        },
      },
    });
    const successor = await harness.view('citizens', STORY.newRepresentative);
    expect(successor?.enterprises).toMatchObject({ [STORY.enterprise]: { role: 'LEGAL_REPRESENTATIVE' } });
  });

  it('gives the enterprise its registration, tax debt and the vehicle it sold', async () => {
    const enterprise = await harness.view('enterprises', STORY.enterprise);
    expect(enterprise).toMatchObject({
      registration: {
        name: 'Công ty TNHH Liên Thông Xanh',
        legalForm: 'MULTI_MEMBER_LLC',
        legalRepresentativeCitizenId: STORY.newRepresentative,
        previousLegalRepresentativeCitizenId: STORY.founder,
        charterCapital: '5000000000',
        status: 'OPERATING',
        amendmentNumber: 1,
      },
      tax: { [STORY.enterprise]: { status: 'ACTIVE', debt: '125000000', kind: 'ENTERPRISE' } },
      vehicles: { [sectionKey(STORY.plate)]: { plate: STORY.plate, ownership: 'FORMER', brand: 'VinFast' } },
    });
  });

  it('gives the vehicle its new owner and both history entries', async () => {
    const vehicle = await harness.view('vehicles', STORY.plate);
    expect(vehicle).toMatchObject({
      registration: {
        plate: STORY.plate,
        brand: 'VinFast',
        owner: { citizenId: STORY.buyer },
        status: 'REGISTERED',
      },
    });
    const history = vehicle?.history as Record<string, { event: string }>;
    expect(Object.keys(history).sort()).toEqual([
      'DKX-2026-555001@v000000000001',
      'DKX-2026-555001@v000000000002',
    ]);
    expect(history['DKX-2026-555001@v000000000002']?.event).toBe('OwnershipTransferred');
  });

  it('lists the buyer’s vehicle and dossier, and the dossier closed on time', async () => {
    const buyer = await harness.view('citizens', STORY.buyer);
    expect(buyer).toMatchObject({
      vehicles: { [sectionKey(STORY.plate)]: { ownership: 'CURRENT', brand: 'VinFast', model: 'VF 8' } },
      dossiers: {
        [sectionKey(STORY.dossier)]: { status: 'COMPLETED', open: false, procedureCode: '1.004227' },
      },
    });
    const dossier = await harness.view('dossiers', STORY.dossier);
    expect(dossier).toMatchObject({
      dossier: { applicant: { citizenId: STORY.buyer }, status: 'COMPLETED', open: false, onTime: true },
    });
    expect(Object.keys(dossier?.timeline as object)).toHaveLength(2);
  });

  it('stamps every section with the coordinates and trace of its source event', async () => {
    const dossier = await harness.view('dossiers', STORY.dossier);
    const completed = events.find((e) => e.event.eventType === 'DossierStatusChanged')?.event;
    if (!completed) throw new Error('the story has no status change');
    const source = (dossier?.dossier as { source: Record<string, unknown> }).source;
    expect(source).toMatchObject({
      agency: 'HN-TTHCC',
      topic: harness.topics.dossier,
      eventId: completed.eventId,
      eventType: 'DossierStatusChanged',
      sourceVersion: 2,
      traceId: traceparentFor(completed.eventId).slice(3, 35),
    });
    expect(typeof source.partition).toBe('number');
    expect(source.offset).toMatch(/^\d+$/);
    expect(source.occurredAt).toEqual(new Date(completed.occurredAt));
    expect(source.ingestedAt).toBeInstanceOf(Date);
  });

  it('gives identical views when every event comes again, in another order across sources', async () => {
    const before = await harness.snapshot();
    const { noop } = harness.service().stats();
    // Per-entity order is Kafka's to keep; across topics, anything goes. Reverse the topics.
    const byTopic = ['dossier', 'vehicle', 'tax', 'business-registration'] as const;
    await harness.publish(byTopic.flatMap((t) => events.filter((e) => e.topic === t)));
    await harness.waitForEvents(2 * events.length);
    expect(harness.service().stats().noop - noop).toBe(events.length);
    expect(await harness.snapshot()).toEqual(before);
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz, and counts events, lag and write time in /metrics', async () => {
    const base = harness.service().url();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const applied = new RegExp(
      `sharing_events_total\\{[^}]*topic="${harness.topics.tax}"[^}]*outcome="applied"[^}]*\\} (\\d+)`,
    );
    expect(Number(applied.exec(text)?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(
      new RegExp(`sharing_consumer_lag\\{[^}]*topic="${harness.topics.dossier}"[^}]*\\} 0`),
    );
    expect(text).toMatch(/sharing_store_write_seconds_count\{[^}]*\} [1-9]/);
    const written = /^sharing_documents_written_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1];
    expect(Number(written)).toBe(harness.service().stats().documentsWritten);
    expect(Number(written)).toBeGreaterThan(0);
  });

  it("traces each write command's documents with the version of each source record they hold, and the writer's rounds", async () => {
    const collection = (await readCatalog(harness.db())).vehicles;
    const writes = traced.flatMap((entry) =>
      entry.kind === 'write' && entry.collection === collection
        ? entry.ids.map((id, k) => ({ id, held: entry.versions[k], sentAt: entry.sentAt, at: entry.at }))
        : [],
    );
    const last = writes.filter((w) => w.id === STORY.plate).at(-1);
    // The registration (version 1) and the transfer (2) each left a history section; 2 is held.
    expect(last?.held).toEqual({ 'DKX-2026-555001': 2 });
    expect(last?.at).toBeGreaterThanOrEqual(last?.sentAt ?? Infinity);
    // Each command was sent within a writer round, which began after its oldest submission.
    const rounds = traced.flatMap((entry) => (entry.kind === 'round' ? [entry] : []));
    for (const { sentAt, at } of writes) {
      const round = rounds.find((r) => r.startedAt <= sentAt && at <= r.at);
      expect(round).toBeDefined();
      expect(round?.oldestAt).toBeLessThanOrEqual(round?.startedAt ?? -Infinity);
      // With its time in each part, the write among them.
      expect(Object.keys(round?.stages ?? {})).toEqual(expect.arrayContaining(['catalog', 'load', 'write']));
    }
    // Every document the view holds was written, and traced, at least once.
    const held = await harness.db().collection(collection).distinct('_id');
    expect(new Set(writes.map((w) => w.id))).toEqual(new Set(held));
  });
});

describe('messages that can never be applied', () => {
  it('dead-letters garbage, unknown schema ids and invalid events with their bytes, and moves on', async () => {
    const good = storyEvents().find((e) => e.topic === 'tax');
    if (!good) throw new Error('the story has no tax event');
    const impostor = { ...good.event, sourceAgency: 'HN-PC08' };
    const poison = [
      { code: 'EVENT_UNDECODABLE', value: Buffer.from('{"not":"avro"}') },
      { code: 'SCHEMA_UNKNOWN', value: toConfluentWire(987_654, Buffer.from([2, 4, 6])) },
      { code: 'EVENT_INVALID', value: harness.encode('tax', impostor) },
    ];
    const seen = harness.service().stats();
    for (const p of poison) await harness.publishRaw('tax', 'poison', p.value);
    const later = {
      ...good,
      event: { ...good.event, sourceVersion: 9, eventId: '5f0c3e1e-0000-5000-8000-000000000009' },
    };
    await harness.publish([later]);
    await harness.waitForEvents(seen.applied + seen.noop + seen.deadLettered + poison.length + 1);

    const letters = await readMessages(harness.kafka, harness.deadLetterTopic, poison.length);
    expect(letters.map((l) => l.headers[DEAD_LETTER_HEADERS.errorCode])).toEqual(poison.map((p) => p.code));
    letters.forEach((letter, i) => {
      expect(letter.rawValue?.equals(poison[i]?.value ?? Buffer.alloc(0))).toBe(true);
      expect(letter.key).toBe('poison');
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(harness.topics.tax);
      expect(letter.headers[DEAD_LETTER_HEADERS.offset]).toMatch(/^\d+$/);
      expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toBeTruthy();
    });
    const enterprise = await harness.view('enterprises', STORY.enterprise);
    const tax = (enterprise?.tax as Record<string, { source: { sourceVersion: number } }>)[STORY.enterprise];
    expect(tax?.source.sourceVersion).toBe(9);
  });
});

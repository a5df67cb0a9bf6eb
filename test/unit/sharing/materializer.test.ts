import { type LienthongEvent } from '../../../schemas/generated/events';
import { BSON } from 'mongodb';
import { MAP_BOUNDS } from '../../../services/sharing/map-bounds';
import { homeDocument } from '../../../services/sharing/changes';
import {
  type BatchOutcome,
  directTargets,
  materialize,
  materializeChanges,
  PROJECTIONS,
  type RoundStage,
  type SourcedChange,
  subjectsOf,
} from '../../../services/sharing/materializer';
import {
  type Projection,
  type SourcedEvent,
  VIEW_NAMES,
  type ViewName,
} from '../../../services/sharing/projection';
import { type ViewStore } from '../../../services/sharing/view-store';
import { generateEventStream } from '../../support/event-stream';
import { deliver, eventOf, INGESTED_AT, redelivered, topicOf } from './events';
import {
  createMemoryViewStore,
  type MemoryViewStore,
  type Snapshot,
  withoutIngestedAt,
} from './memory-view-store';
import { AT, KEYS, RECORDS, STORY, storyEvents } from './story';

const s = STORY;
const events = storyEvents();

/** Applies the events batch by batch to the store, and answers the outcomes. */
async function applyInBatches(store: MemoryViewStore, batches: readonly (readonly SourcedEvent[])[]) {
  const outcomes = [];
  for (const batch of batches) outcomes.push(await materialize(batch, store));
  return outcomes;
}

/** The store after applying these events in one batch to an empty store. */
async function viewsAfter(batch: readonly SourcedEvent[]): Promise<Snapshot> {
  const store = createMemoryViewStore();
  await materialize(batch, store);
  return store.snapshot();
}

/** The source of the delivered event with this event's id. */
function sourceOf(delivered: readonly SourcedEvent[], event: LienthongEvent) {
  const found = delivered.find((d) => d.event.eventId === event.eventId);
  if (!found) throw new Error(`${event.eventType} was not delivered`);
  return found.source;
}

/**
 * An interleaving of the topics' streams that keeps each topic's order: repeatedly takes the next
 * event of the topic `pick` chooses among those with events left.
 */
function interleave(
  stream: readonly LienthongEvent[],
  pick: (topics: string[], step: number) => string,
): LienthongEvent[] {
  const queues = new Map<string, LienthongEvent[]>();
  for (const event of stream) {
    const topic = topicOf(event.eventType);
    queues.set(topic, [...(queues.get(topic) ?? []), event]);
  }
  const out: LienthongEvent[] = [];
  for (let step = 0; out.length < stream.length; step += 1) {
    const topics = [...queues].filter(([, q]) => q.length > 0).map(([t]) => t);
    out.push((queues.get(pick(topics, step)) as LienthongEvent[]).shift() as LienthongEvent);
  }
  return out;
}

/** Splits a list into batches of `size`. */
function batches<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

describe('materialize', () => {
  it('tells each part of its round, the loads that projections ask for midway as loads', async () => {
    const store = createMemoryViewStore();
    await materialize(deliver(events.story), store);
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let loads = 0;
    const slow: typeof store = {
      ...store,
      async load(view, ids) {
        loads += 1;
        await pause(20);
        return store.load(view, ids);
      },
      async write(view, changes) {
        await pause(20);
        return store.write(view, changes);
      },
    };
    const told: { stage: RoundStage; seconds: number }[] = [];
    const started = performance.now();
    await materialize(deliver([events.amended]), slow, {
      onStage: (stage, seconds) => told.push({ stage, seconds }),
    });
    const wall = (performance.now() - started) / 1_000;
    // The amendment names the new representative only; the citizens projection finds the former
    // one in the enterprise document and loads that citizen's document midway.
    const loadsTold = told.filter((t) => t.stage === 'load');
    expect(loadsTold.length).toBeGreaterThan(1);
    expect(told.map((t) => t.stage)).toEqual([...loadsTold.map(() => 'load'), 'apply', 'write']);
    // Each load call and each write step waited 20 ms: at least that is told, under its own part.
    expect(loadsTold.every((t) => t.seconds >= 0.019)).toBe(true);
    expect(loads).toBeGreaterThanOrEqual(loadsTold.length);
    expect(told.at(-1)?.seconds).toBeGreaterThanOrEqual(0.039);
    // No time is told twice: the parts together fit in the round.
    expect(told.reduce((sum, t) => sum + t.seconds, 0)).toBeLessThanOrEqual(wall + 0.001);
  });

  describe('given the events of the next round', () => {
    const stream = deliver(generateEventStream(400).map((e) => e.event));
    const [first, next] = [stream.slice(0, 200), stream.slice(200)];
    const key = (view: string, id: string) => `${view}/${id}`;

    /** A store that records what a round loads, and holds its reads ahead until `release`. */
    function watchedStore(write?: ViewStore['write']) {
      const inner = createMemoryViewStore();
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      const watched = {
        loaded: new Set<string>(),
        ahead: [] as string[],
        aheadDone: false,
        release,
        store: {
          ...inner,
          async load(view, ids) {
            for (const id of ids) watched.loaded.add(key(view, id));
            return inner.load(view, ids);
          },
          async readAhead(view, ids) {
            watched.ahead.push(...ids.map((id) => key(view, id)));
            await held;
            watched.aheadDone = true;
          },
          write: write ?? inner.write.bind(inner),
        } satisfies ViewStore,
      };
      return watched;
    }

    it('reads ahead the documents the next round names that this one did not read, beside its writes', async () => {
      const watched = watchedStore();
      const outcome = await materialize(first, watched.store, { upcoming: () => subjectsOf(next) });
      // The round ended with its reads ahead still held: they did not keep its writes waiting.
      expect(watched.aheadDone).toBe(false);
      expect(outcome.failed).toBe(0);
      const named = new Set(
        next.flatMap(({ event }) =>
          Object.entries({
            citizens: event.subjects.citizenIds,
            enterprises: event.subjects.enterpriseCodes,
            vehicles: event.subjects.plates,
            dossiers: event.subjects.dossierIds,
          }).flatMap(([view, ids]) => ids.map((id) => key(view, id))),
        ),
      );
      const expected = [...named].filter((k) => !watched.loaded.has(k));
      expect(expected.length).toBeGreaterThan(0);
      // Some of the next round's documents are this round's too: those are left to the next round.
      expect(expected.length).toBeLessThan(named.size);
      expect(watched.ahead.sort()).toEqual(expected.sort());
      watched.release();
      await outcome.aheadRead;
      expect(watched.aheadDone).toBe(true);
    });

    it('fails a round whose write fails only once its reads ahead are over', async () => {
      const watched = watchedStore(async () => {
        throw new Error('store away');
      });
      let failed = false;
      const round = materialize(first, watched.store, { upcoming: () => subjectsOf(next) }).catch(
        (err: Error) => {
          failed = true;
          return err;
        },
      );
      await new Promise((r) => setTimeout(r, 20));
      expect(watched.ahead.length).toBeGreaterThan(0);
      expect(failed).toBe(false);
      watched.release();
      expect(await round).toEqual(new Error('store away'));
      expect(watched.aheadDone).toBe(true);
    });
  });

  describe('given a round that changes documents of every view', () => {
    const stream = deliver(generateEventStream(200).map((e) => e.event));

    /** The round's events as the first stage routes them: home changes, or one per document. */
    const changes: SourcedChange[] = stream.flatMap((sourced) => {
      const change = (target: { view: ViewName; id: string }, home: boolean): SourcedChange => ({
        sourced,
        change: {
          source: {
            topic: sourced.source.topic,
            partition: 0,
            offset: '0',
            timestamp: '0',
            key: null,
            ingestedAt: INGESTED_AT,
          },
          value: Buffer.alloc(0),
          headers: {},
          ...target,
          home,
          context: new Map(),
        },
      });
      const home = homeDocument(topicOf(sourced.event.eventType), sourced.event);
      if (home) return [change(home, true)];
      const targets = directTargets(sourced);
      if (!Array.isArray(targets)) throw new Error(targets.reason);
      return targets.map((target) => change(target, false));
    });

    /** A store whose writes each take a few ms, and that tells when each view's began and ended. */
    function timedWrites() {
      const inner = createMemoryViewStore();
      const told: string[] = [];
      const store: ViewStore = {
        ...inner,
        async write(view, docs) {
          told.push(`begin ${view}`);
          await new Promise((r) => setTimeout(r, 5));
          told.push(`end ${view}`);
          return inner.write(view, docs);
        },
      };
      return { store, told };
    }

    it('writes enterprises once the other views are written, from whole events', async () => {
      const { store, told } = timedWrites();
      await materialize(stream, store);
      expect(new Set(told.map((t) => t.split(' ')[1]))).toEqual(new Set(VIEW_NAMES));
      expect(told.indexOf('begin enterprises')).toBeGreaterThan(
        Math.max(...['citizens', 'vehicles', 'dossiers'].map((view) => told.indexOf(`end ${view}`))),
      );
    });

    it('writes every view at once from changes, whose projections read only their own document', async () => {
      const { store, told } = timedWrites();
      const outcome = await materializeChanges(changes, store);
      expect(outcome.outcomes.filter((o) => typeof o === 'object')).toEqual([]);
      expect(new Set(told.map((t) => t.split(' ')[1]))).toEqual(new Set(VIEW_NAMES));
      expect(told.slice(0, VIEW_NAMES.length).every((t) => t.startsWith('begin '))).toBe(true);
    });
  });

  describe('given the cross-agency story in one batch', () => {
    const delivered = deliver(events.story);
    const src = (event: LienthongEvent) => sourceOf(delivered, event);
    let store: MemoryViewStore;
    let outcome: BatchOutcome;

    beforeAll(async () => {
      store = createMemoryViewStore();
      outcome = await materialize(delivered, store);
    });

    it('applies every event and writes each document once', () => {
      expect(outcome).toMatchObject({
        applied: events.story.length,
        noop: 0,
        written: { citizens: 2, enterprises: 1, vehicles: 1, dossiers: 1 },
      });
      expect(store.writes.map((w) => `${w.view}/${w.id}`)).toEqual([
        `citizens/${s.founder}`,
        `citizens/${s.buyer}`,
        `vehicles/${s.plate}`,
        `dossiers/${s.dossier}`,
        `enterprises/${s.enterprise}`,
      ]);
    });

    it('lists the enterprise under its founder, as its legal representative', () => {
      expect(store.snapshot().citizens[s.founder]).toEqual({
        _id: s.founder,
        identity: { citizenId: s.founder, birthProvinceCode: '001', sex: 'male', birthYear: 1989 },
        enterprises: {
          [s.enterprise]: {
            enterpriseCode: s.enterprise,
            role: 'LEGAL_REPRESENTATIVE',
            name: s.enterpriseName,
            status: 'OPERATING',
            source: src(events.registered),
          },
        },
      });
    });

    it('gives the buyer the car, owned now, and the dossier she filed, completed', () => {
      expect(store.snapshot().citizens[s.buyer]).toEqual({
        _id: s.buyer,
        identity: { citizenId: s.buyer, birthProvinceCode: '001', sex: 'female', birthYear: 1995 },
        vehicles: {
          [KEYS.plate]: {
            plate: s.plate,
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 8',
            ownership: 'CURRENT',
            status: 'REGISTERED',
            since: new Date(AT.transferred),
            until: null,
            source: src(events.transferred),
          },
        },
        dossiers: {
          [KEYS.dossier]: {
            dossierId: s.dossier,
            procedureCode: '1.004227',
            procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
            receivingAgency: 'HN-TTHCC',
            receivedAt: new Date(AT.received),
            dueAt: new Date(AT.due),
            status: 'COMPLETED',
            handlingAgency: 'HN-PC08',
            statusChangedAt: new Date(AT.completed),
            open: false,
            source: src(events.completed),
          },
        },
      });
    });

    it('gives the enterprise its registration, its tax debt, and the car as owned formerly', () => {
      expect(store.snapshot().enterprises[s.enterprise]).toEqual({
        _id: s.enterprise,
        registration: {
          enterpriseCode: s.enterprise,
          name: s.enterpriseName,
          legalForm: 'MULTI_MEMBER_LLC',
          address:
            events.registered.payload['vn.hanoi.lienthong.business_registration.EnterpriseRegistered']
              .address,
          legalRepresentativeCitizenId: s.founder,
          charterCapital: '5000000000',
          registeredAt: new Date(AT.registered),
          amendmentNumber: 0,
          status: 'OPERATING',
          source: src(events.registered),
        },
        tax: {
          [s.enterprise]: {
            taxCode: s.enterprise,
            kind: 'ENTERPRISE',
            name: s.enterpriseName,
            managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
            registeredAt: new Date(AT.taxpayerRegistered),
            status: 'ACTIVE',
            debt: '125000000',
            debtAsOf: new Date(AT.debtAsOf),
            source: src(events.debt),
          },
        },
        vehicles: {
          [KEYS.plate]: {
            plate: s.plate,
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 8',
            ownership: 'FORMER',
            status: 'REGISTERED',
            since: new Date(AT.vehicleRegistered),
            until: new Date(AT.transferred),
            source: src(events.transferred),
          },
        },
      });
    });

    it('gives the vehicle its owner now and a history entry per version', () => {
      expect(store.snapshot().vehicles[s.plate]).toEqual({
        _id: s.plate,
        registration: {
          plate: s.plate,
          frameNumber: 'RLLV8ACA5RV012345',
          engineNumber: 'VFEM24A012345',
          kind: 'CAR',
          brand: 'VinFast',
          model: 'VF 8',
          owner: { citizenId: s.buyer },
          registeredAt: new Date(AT.vehicleRegistered),
          status: 'REGISTERED',
          source: src(events.transferred),
        },
        history: {
          'DKX-2024-555001@v000000000001': {
            event: 'VehicleRegistered',
            at: new Date(AT.vehicleRegistered),
            owner: { enterpriseCode: s.enterprise },
            source: src(events.vehicleRegistered),
          },
          'DKX-2024-555001@v000000000002': {
            event: 'OwnershipTransferred',
            at: new Date(AT.transferred),
            owner: { citizenId: s.buyer },
            previousOwner: { enterpriseCode: s.enterprise },
            source: src(events.transferred),
          },
        },
      });
    });

    it('gives the dossier its timeline, and says it closed on time', () => {
      expect(store.snapshot().dossiers[s.dossier]).toEqual({
        _id: s.dossier,
        dossier: {
          dossierId: s.dossier,
          procedureCode: '1.004227',
          procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
          applicant: { citizenId: s.buyer },
          receivingAgency: 'HN-TTHCC',
          handlingAgency: 'HN-PC08',
          channel: 'ONLINE_LEVEL_4',
          receivedAt: new Date(AT.received),
          dueAt: new Date(AT.due),
          status: 'COMPLETED',
          open: false,
          closedAt: new Date(AT.completed),
          onTime: true,
          source: src(events.completed),
        },
        timeline: {
          'HS-2024-0012@v000000000001': {
            status: 'RECEIVED',
            at: new Date(AT.received),
            agency: 'HN-TTHCC',
            note: null,
            source: src(events.received),
          },
          'HS-2024-0012@v000000000002': {
            status: 'COMPLETED',
            at: new Date(AT.completed),
            agency: 'HN-PC08',
            note: null,
            source: src(events.completed),
          },
        },
      });
    });

    it('writes sections at their dotted paths, never a whole map', () => {
      const paths = store.writes.flatMap((w) => Object.keys(w.set));
      expect(paths).toEqual(
        expect.arrayContaining([
          `vehicles.${KEYS.plate}`,
          `dossiers.${KEYS.dossier}`,
          `tax.${s.enterprise}`,
          'history.DKX-2024-555001@v000000000002',
          'timeline.HS-2024-0012@v000000000001',
        ]),
      );
      for (const container of ['vehicles', 'dossiers', 'tax', 'history', 'timeline', 'enterprises']) {
        expect(paths).not.toContain(container);
      }
    });

    it('gives the same documents when each event is its own batch', async () => {
      const oneByOne = createMemoryViewStore();
      const outcomes = await applyInBatches(
        oneByOne,
        delivered.map((d) => [d]),
      );
      expect(outcomes.map((o) => o.applied)).toEqual(delivered.map(() => 1));
      expect(oneByOne.snapshot()).toEqual(store.snapshot());
    });
  });

  describe('given duplicates', () => {
    const delivered = deliver(events.story);
    let once: Snapshot;

    beforeAll(async () => {
      once = await viewsAfter(delivered);
    });

    it('counts every event delivered twice in one batch as one no-op, and writes the same documents', async () => {
      const store = createMemoryViewStore();
      const outcome = await materialize([...delivered, ...delivered], store);
      expect(outcome.applied).toBe(delivered.length);
      expect(outcome.noop).toBe(delivered.length);
      expect(store.snapshot()).toEqual(once);
    });

    it('counts each event right after itself as a no-op', async () => {
      const store = createMemoryViewStore();
      const outcome = await materialize(
        delivered.flatMap((d) => [d, d]),
        store,
      );
      expect(outcome).toMatchObject({ applied: delivered.length, noop: delivered.length });
      expect(store.snapshot()).toEqual(once);
    });

    it('writes nothing when a whole batch is read again, after a rebalance', async () => {
      const store = createMemoryViewStore();
      await materialize(delivered, store);
      const replay = delivered.map((d) => redelivered(d, { ingestedAt: new Date(Date.UTC(2024, 5, 2)) }));
      const outcome = await materialize(replay, store);
      expect(outcome).toMatchObject({
        applied: 0,
        noop: delivered.length,
        written: { citizens: 0, enterprises: 0, vehicles: 0, dossiers: 0 },
      });
      expect(store.snapshot()).toEqual(once);
    });

    it('keeps the first provenance when a connector publishes the same record version again', async () => {
      const store = createMemoryViewStore();
      const republished = delivered.map((d) =>
        redelivered(d, { offset: String(Number(d.source.offset) + 100) }),
      );
      const outcome = await materialize([...delivered, ...republished], store);
      expect(outcome.noop).toBe(republished.length);
      expect(store.snapshot()).toEqual(once);
    });
  });

  describe('given the topics interleaved differently, each in its own order', () => {
    const inStoryOrder = deliver(events.story);
    const orders: [string, LienthongEvent[]][] = [
      ['story order', events.story],
      ['topic after topic, last topic first', interleave(events.story, (topics) => topics.at(-1) as string)],
      ['round robin', interleave(events.story, (topics, step) => topics[step % topics.length] as string)],
      [
        'round robin from the back',
        interleave(
          events.story,
          (topics, step) => topics[topics.length - 1 - (step % topics.length)] as string,
        ),
      ],
    ];
    let reference: Snapshot;

    beforeAll(async () => {
      reference = withoutIngestedAt(await viewsAfter(inStoryOrder));
    });

    it('covers orders that really differ', () => {
      const signatures = new Set(orders.map(([, order]) => order.map((e) => e.eventId).join()));
      expect(signatures.size).toBe(orders.length);
    });

    it.each(orders)('gives the same documents in %s, duplicated, in batches of 3', async (_name, order) => {
      const doubled = interleave(
        [...order, ...order],
        (topics, step) => topics[step % topics.length] as string,
      );
      const delivered = deliver(doubled, new Date(Date.UTC(2024, 6, 1)));
      const store = createMemoryViewStore();
      const outcomes = await applyInBatches(store, batches(delivered, 3));
      expect(withoutIngestedAt(store.snapshot())).toEqual(reference);
      expect(outcomes.reduce((n, o) => n + o.noop, 0)).toBe(order.length);
      expect(outcomes.reduce((n, o) => n + o.applied, 0)).toBe(order.length);
    });
  });

  describe('given the enterprise changes its legal representative', () => {
    const before = deliver(events.story);
    const [amended] = deliver([events.amended], new Date(Date.UTC(2024, 3, 2)));
    let storyViews: Snapshot;
    let clean: Snapshot;

    beforeAll(async () => {
      storyViews = await viewsAfter(before);
      const store = createMemoryViewStore(storyViews);
      await materialize([amended], store);
      clean = store.snapshot();
    });

    it("makes the founder's section a former representation, keeping its name and status", () => {
      expect(clean.citizens[s.founder]?.enterprises).toEqual({
        [s.enterprise]: {
          enterpriseCode: s.enterprise,
          role: 'FORMER_LEGAL_REPRESENTATIVE',
          name: s.enterpriseName,
          status: 'OPERATING',
          source: amended.source,
        },
      });
    });

    it('gives the new representative a section named after the enterprise', () => {
      expect(clean.citizens[s.newRepresentative]).toMatchObject({
        _id: s.newRepresentative,
        identity: { citizenId: s.newRepresentative, sex: 'female', birthYear: 1990 },
        enterprises: {
          [s.enterprise]: {
            enterpriseCode: s.enterprise,
            role: 'LEGAL_REPRESENTATIVE',
            name: s.enterpriseName,
            source: amended.source,
          },
        },
      });
    });

    it('keeps the previous representative and the amendment that replaced them in the registration', () => {
      expect(clean.enterprises[s.enterprise]?.registration).toEqual({
        ...(storyViews.enterprises[s.enterprise]?.registration as object),
        legalRepresentativeCitizenId: s.newRepresentative,
        previousLegalRepresentativeCitizenId: s.founder,
        legalRepresentativeChangedBy: events.amended.eventId,
        amendmentNumber: 1,
        amendedAt: new Date(AT.amended),
        source: amended.source,
      });
    });

    it('changes nothing else', () => {
      expect(clean.vehicles).toEqual(storyViews.vehicles);
      expect(clean.dossiers).toEqual(storyViews.dossiers);
      expect(clean.citizens[s.buyer]).toEqual(storyViews.citizens[s.buyer]);
      expect(clean.enterprises[s.enterprise]?.tax).toEqual(storyViews.enterprises[s.enterprise]?.tax);
    });

    it('keeps the previous representative through a later amendment that changes only the name', async () => {
      const rename = eventOf(
        'EnterpriseAmended',
        {
          record: RECORDS.enterprise,
          version: 3,
          occurredAt: AT.amended + 86_400_000,
          subjects: { enterpriseCodes: [s.enterprise] },
        },
        {
          enterpriseCode: s.enterprise,
          amendmentNumber: 2,
          amendedAt: AT.amended + 86_400_000,
          name: 'Công ty TNHH Liên Thông Xanh Hà Nội',
          legalForm: null,
          address: null,
          legalRepresentativeCitizenId: null,
          charterCapital: null,
        },
      );
      const store = createMemoryViewStore(clean);
      const outcome = await materialize(deliver([rename]), store);
      const views = store.snapshot();
      expect(views.enterprises[s.enterprise]?.registration).toMatchObject({
        name: 'Công ty TNHH Liên Thông Xanh Hà Nội',
        amendmentNumber: 2,
        legalRepresentativeCitizenId: s.newRepresentative,
        previousLegalRepresentativeCitizenId: s.founder,
        legalRepresentativeChangedBy: events.amended.eventId,
      });
      // Only the representative now is told of the new name; the founder's section stays as it was.
      expect(outcome.written).toEqual({ citizens: 1, enterprises: 1, vehicles: 0, dossiers: 0 });
      expect(views.citizens[s.newRepresentative]?.enterprises).toMatchObject({
        [s.enterprise]: { role: 'LEGAL_REPRESENTATIVE', name: 'Công ty TNHH Liên Thông Xanh Hà Nội' },
      });
      expect(views.citizens[s.founder]).toEqual(clean.citizens[s.founder]);
    });

    it.each([
      ['the enterprise was written but not the citizens', 'enterprises'],
      ['the citizens were written but not the enterprise', 'citizens'],
    ] as const)('gives the same views when replayed after a crash where %s', async (_case, written) => {
      const crashed = createMemoryViewStore({ ...storyViews, [written]: clean[written] });
      const outcome = await materialize([amended], crashed);
      expect(crashed.snapshot()).toEqual(clean);
      // The half that was written already takes nothing from the replay.
      expect(outcome.written[written]).toBe(0);
    });

    it('makes the amendment, read again, a no-op', async () => {
      const store = createMemoryViewStore(clean);
      const outcome = await materialize([amended], store);
      expect(outcome).toMatchObject({ applied: 0, noop: 1 });
      expect(store.snapshot()).toEqual(clean);
    });
  });

  describe('given a late event, older than what the views hold', () => {
    const cleared = eventOf(
      'TaxDebtUpdated',
      {
        record: RECORDS.taxpayer,
        version: 3,
        occurredAt: AT.debtAsOf + 86_400_000,
        subjects: { enterpriseCodes: [s.enterprise] },
      },
      { taxCode: s.enterprise, amount: '0', asOf: AT.debtAsOf + 86_400_000 },
    );

    it('applies nothing, writes nothing, and counts a no-op', async () => {
      // Versions 1 and 3 arrive; version 2 (the debt of 125,000,000) comes after 3.
      const [registered, taxpayer, v3] = deliver([events.registered, events.taxpayerRegistered, cleared]);
      const store = createMemoryViewStore();
      await materialize([registered, taxpayer, v3], store);
      const views = store.snapshot();
      const [late] = deliver([events.debt]);
      const outcome = await materialize([late], store);
      expect(outcome).toMatchObject({
        applied: 0,
        noop: 1,
        written: { citizens: 0, enterprises: 0, vehicles: 0, dossiers: 0 },
      });
      expect(store.snapshot()).toEqual(views);
      expect(views.enterprises[s.enterprise]?.tax).toMatchObject({
        [s.enterprise]: { debt: '0', debtAsOf: new Date(AT.debtAsOf + 86_400_000) },
      });
    });

    it('is a no-op in the same batch as the newer one too', async () => {
      const delivered = deliver([events.vehicleRegistered, events.transferred]);
      const store = createMemoryViewStore();
      const outcome = await materialize(
        [...delivered, ...deliver([events.vehicleRegistered]).map((d) => redelivered(d, { offset: '9' }))],
        store,
      );
      expect(outcome).toMatchObject({ applied: 2, noop: 1 });
      expect(store.snapshot().vehicles[s.plate]?.registration).toMatchObject({
        owner: { citizenId: s.buyer },
      });
    });
  });

  describe('given an event that cannot be applied', () => {
    const story = deliver(events.story);
    const completed = story.find((e) => e.event.eventType === 'DossierStatusChanged') as SourcedEvent;
    /** The projections, with the dossiers one throwing on the completion only. */
    const failingOn = (eventId: string): Projection[] =>
      PROJECTIONS.map((p) =>
        p.view !== 'dossiers'
          ? p
          : {
              ...p,
              evolve(current, sourced, id, read) {
                if (sourced.event.eventId === eventId) throw new RangeError('Invalid time value');
                return p.evolve(current, sourced, id, read);
              },
            },
      );

    it('leaves out every part of an event a projection throws on, and applies the rest of the batch', async () => {
      const store = createMemoryViewStore();
      const outcome = await materialize(story, store, { projections: failingOn(completed.event.eventId) });
      const at = story.indexOf(completed);
      expect(outcome.outcomes[at]).toEqual({
        code: 'PROJECTION_FAILED',
        reason: 'The dossiers projection threw RangeError',
        cause: expect.any(RangeError),
      });
      expect(outcome).toMatchObject({ applied: story.length - 1, noop: 0, failed: 1 });
      const views = store.snapshot();
      // Not even the citizens projection, which ran first, kept its part of the completion.
      expect(views.citizens[s.buyer]?.dossiers).toMatchObject({ [KEYS.dossier]: { status: 'RECEIVED' } });
      expect(views.dossiers[s.dossier]?.dossier).toMatchObject({ status: 'RECEIVED' });
      expect(views.vehicles[s.plate]?.registration).toMatchObject({ owner: { citizenId: s.buyer } });
    });

    it('refuses an event that would take a document past the size limit, and keeps the document as it was', async () => {
      const store = createMemoryViewStore();
      await materialize(story.slice(0, -1), store);
      const before = store.snapshot();
      // The buyer's document is the largest the completion changes.
      const size = BSON.calculateObjectSize(before.citizens[s.buyer] as object);
      // Room for a little more, not for a closing and its timeline entry.
      const outcome = await materialize([completed], store, { maxDocumentBytes: size + 50 });
      expect(outcome.outcomes).toEqual([
        {
          code: 'DOCUMENT_TOO_LARGE',
          reason: `The event would take a citizens document past ${size + 50} bytes`,
        },
      ]);
      expect(store.snapshot()).toEqual(before);
      expect(outcome.written).toEqual({ citizens: 0, enterprises: 0, vehicles: 0, dossiers: 0 });
    });

    it('rejects the whole batch when the store fails, for the caller to retry: an outage is not the event’s fault', async () => {
      const store = createMemoryViewStore();
      const down = new Error('connection refused');
      await expect(materialize(story, { ...store, load: () => Promise.reject(down) })).rejects.toBe(down);
      await expect(materialize(story, { ...store, write: () => Promise.reject(down) })).rejects.toBe(down);
    });
  });

  describe('given a map past its bound', () => {
    it('moves the oldest entries to the archive before unsetting them from the document', async () => {
      const store = createMemoryViewStore();
      const bounds = { ...MAP_BOUNDS, vehicles: { history: 1 } };
      const [registered, transferred] = deliver([events.vehicleRegistered, events.transferred]);
      await materialize([registered as SourcedEvent], store, { mapBounds: bounds });
      await materialize([transferred as SourcedEvent], store, { mapBounds: bounds });
      const vehicle = store.snapshot().vehicles[s.plate];
      expect(Object.keys(vehicle?.history as object)).toEqual([`${RECORDS.vehicle}@v000000000002`]);
      expect([...store.archives.vehicles.values()]).toEqual([
        expect.objectContaining({
          docId: s.plate,
          map: 'history',
          key: `${RECORDS.vehicle}@v000000000001`,
          entry: expect.objectContaining({ event: 'VehicleRegistered' }),
        }),
      ]);
      expect(store.writes.filter((w) => w.view === 'vehicles').at(-1)).toMatchObject({
        unset: [`history.${RECORDS.vehicle}@v000000000001`],
      });
    });
  });

  describe('given the registration resent late, after an amendment that changed the representative', () => {
    it('fills what the registration carried, keeps the newer representative, and makes the one it named a former one', async () => {
      const store = createMemoryViewStore();
      // The registration was refused at the connector; the amendment went through.
      await materialize(deliver([events.amended]), store);
      await materialize(deliver([events.registered]), store);
      const views = store.snapshot();
      expect(views.enterprises[s.enterprise]?.registration).toMatchObject({
        name: s.enterpriseName,
        legalForm: 'MULTI_MEMBER_LLC',
        status: 'OPERATING',
        legalRepresentativeCitizenId: s.newRepresentative,
        amendmentNumber: 1,
      });
      expect(views.citizens[s.newRepresentative]?.enterprises).toMatchObject({
        [s.enterprise]: { role: 'LEGAL_REPRESENTATIVE', name: s.enterpriseName, status: 'OPERATING' },
      });
      expect(views.citizens[s.founder]?.enterprises).toMatchObject({
        [s.enterprise]: { role: 'FORMER_LEGAL_REPRESENTATIVE' },
      });
    });
  });
});

import { BSON } from 'mongodb';
import { type LienthongEvent } from '../../schemas/generated/events';
import { ERROR_CODES } from '../platform/errors';
import { settleAll } from '../platform/settle';
import {
  type Projection,
  type SourcedEvent,
  VIEW_NAMES,
  type ViewDoc,
  type ViewName,
  type ViewReader,
} from './projection';
import { type ArchivedEntry, boundMaps, MAP_BOUNDS, type MapBounds } from './map-bounds';
import { citizensProjection, dossiersProjection, enterprisesProjection, vehiclesProjection } from './views';
import { type DocChange, type ViewStore } from './view-store';
import { type Change, contextOf, documentKey } from './changes';

/** Every view's projection. */
export const PROJECTIONS: readonly Projection[] = [
  citizensProjection,
  enterprisesProjection,
  vehiclesProjection,
  dossiersProjection,
];

/** The order a round writes views in: the views of a step at once, the steps one after another. */
type WriteSteps = readonly (readonly ViewName[])[];

/**
 * The order {@link materialize} writes views in. `enterprises` comes last: the citizens projection
 * reads an enterprise's legal representative from it, so if a crash cuts a batch's writes short,
 * the replay still finds the representative as it was before the batch. The other three read no
 * view, so their writes do not wait on each other.
 */
const WRITE_STEPS: WriteSteps = [['citizens', 'vehicles', 'dossiers'], ['enterprises']];

/**
 * The order {@link materializeChanges} writes views in: all at once. A change's projections read
 * no document of the store but its own, the others as the change carries them, so no view's write
 * needs another's before it.
 */
const CHANGES_WRITE_STEPS: WriteSteps = [VIEW_NAMES];

/**
 * MongoDB's largest document, in bytes of BSON; FerretDB keeps the same limit.
 * @see https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-BSON-Document-Size
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Why an event could not be applied: it goes to the dead-letter topic with this code. */
export interface ApplyFailure {
  code: typeof ERROR_CODES.PROJECTION_FAILED | typeof ERROR_CODES.DOCUMENT_TOO_LARGE;
  /** Names views and sizes, never an event's values. */
  reason: string;
  /** What a projection threw, for the log. */
  cause?: unknown;
}

/**
 * The parts of a round, in order: the read of the collections in force (the service's, before the
 * round), the documents' loads, the projections, the wait for Kafka to hold the dependent changes,
 * and the writes.
 */
export type RoundStage = 'catalog' | 'load' | 'apply' | 'dependents' | 'write';

/** Told how long each part of a round took, s; a part may be told more than once a round. */
export type StageTimer = (stage: RoundStage, seconds: number) => void;

/** Runs `work`, and tells `onStage` how long it took under `stage`. */
export async function timedStage<T>(
  onStage: StageTimer | undefined,
  stage: RoundStage,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    onStage?.(stage, (performance.now() - started) / 1_000);
  }
}

/** What became of one event of a batch. */
export type EventOutcome = 'applied' | 'noop' | ApplyFailure;

/** What applying a batch did. */
export interface BatchOutcome {
  /** Events that changed at least one view document. */
  applied: number;
  /** Duplicates and superseded events: they changed nothing. */
  noop: number;
  /** Events that could not be applied and changed nothing; see {@link outcomes}. */
  failed: number;
  /** For each event of the batch, in order, whether it changed a view. */
  changed: boolean[];
  /** For each event of the batch, in order, what became of it. */
  outcomes: EventOutcome[];
  /** Documents written, per view. */
  written: Record<ViewName, number>;
  /** Resolves once the next round's documents are read ahead (the option `upcoming`); never rejects. */
  aheadRead: Promise<void>;
}

function viewMaps<T>(): Record<ViewName, Map<string, T>> {
  return { citizens: new Map(), enterprises: new Map(), vehicles: new Map(), dossiers: new Map() };
}

/** The ids each view's documents are known by in an event's subjects. */
function subjectIds(event: LienthongEvent): Record<ViewName, readonly string[]> {
  const { citizenIds, enterpriseCodes, plates, dossierIds } = event.subjects;
  return { citizens: citizenIds, enterprises: enterpriseCodes, vehicles: plates, dossiers: dossierIds };
}

/** Documents by view: their ids in each. */
export type DocumentsByView = Map<ViewName, Set<string>>;

/** Documents gathered by view. */
export function byView(docs: Iterable<{ view: ViewName; id: string }>): DocumentsByView {
  const named: DocumentsByView = new Map(VIEW_NAMES.map((v) => [v, new Set()]));
  for (const { view, id } of docs) named.get(view)?.add(id);
  return named;
}

/** The documents, by view, that a batch's events name in their subjects. */
export function subjectsOf(batch: readonly SourcedEvent[]): DocumentsByView {
  return byView(
    batch.flatMap(({ event }) => {
      const ids = subjectIds(event);
      return VIEW_NAMES.flatMap((view) => ids[view].map((id) => ({ view, id })));
    }),
  );
}

/**
 * Starts reading into the writer's cache the documents the next round will likely need
 * (`upcoming`) that this round did not read (`before`), so that those reads overlap this round's
 * writes instead of coming after them. This round's own documents are left out, since its writes
 * change them. Resolves once the reads end, never rejects; the next round must not begin before,
 * or a read of its documents could land after its own write of them. (On FerretDB the writes grew
 * by about what the loads saved: see the README.)
 */
function readAhead(
  store: ViewStore,
  upcoming: (() => DocumentsByView) | undefined,
  before: Record<ViewName, Map<string, ViewDoc | null>>,
): Promise<void> {
  if (upcoming === undefined) return Promise.resolve();
  const reads = [...upcoming()].map(([view, ids]) => {
    const unread = [...ids].filter((id) => !before[view].has(id));
    return store.readAhead?.(view, unread);
  });
  return Promise.all(reads).then(() => undefined);
}

/**
 * Runs `work` beside the reads ahead; if it fails, waits for those reads before failing, since
 * the caller waits for them only after a round that succeeds.
 */
async function beside<T>(aheadRead: Promise<void>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await aheadRead;
    throw err;
  }
}

/**
 * Applies a batch of events, in order, to the views, and writes the result.
 *
 * 1. The documents the events name in their subjects are loaded, in parallel.
 * 2. Each event goes through every projection that handles it. All projections of one event see
 *    the views as they were before that event, so their order does not matter.
 * 3. Each changed document is written once, with the sections that changed, whatever number of
 *    events changed it.
 *
 * Applying the same events again changes nothing: the sections' version guards turn them into
 * no-ops. That, with offsets committed after this resolves, makes the views effectively-once.
 *
 * An event that cannot be applied changes nothing, and the batch goes on without it: a projection
 * that throws (`PROJECTION_FAILED`), or a document that the event would take past
 * `maxDocumentBytes` (`DOCUMENT_TOO_LARGE`). Both are decided from the event and the documents
 * alone, so a replay decides the same; the caller dead-letters them. The store's own errors (an
 * outage) reject the whole batch instead, for the caller to retry: they say nothing of the event.
 */
export async function materialize(
  batch: readonly SourcedEvent[],
  store: ViewStore,
  options: {
    projections?: readonly Projection[];
    maxDocumentBytes?: number;
    mapBounds?: MapBounds;
    onStage?: StageTimer;
    /**
     * The documents the next round will likely need, as known when this one has read its own:
     * they are read ahead, during this round's writes.
     */
    upcoming?: () => DocumentsByView;
  } = {},
): Promise<BatchOutcome> {
  const projections = options.projections ?? PROJECTIONS;
  const mapBounds = options.mapBounds ?? MAP_BOUNDS;
  const archived = viewMaps<ArchivedEntry>();
  const maxDocumentBytes = options.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  const before = viewMaps<ViewDoc | null>();
  const current = viewMaps<ViewDoc | null>();

  const { onStage } = options;
  // The loads that projections ask for midway are told as loads, and left out of the apply time.
  let loadSeconds = 0;
  const ensureLoaded = (wanted: Map<ViewName, Set<string>>): Promise<void> =>
    timedStage(
      (stage, seconds) => {
        loadSeconds += seconds;
        onStage?.(stage, seconds);
      },
      'load',
      () => loadMissing(store, wanted, before, current),
    );

  await ensureLoaded(subjectsOf(batch));

  const read: ViewReader = {
    get(view, id) {
      const doc = current[view].get(id);
      if (doc === undefined) throw new Error(`${view}/${id} was read before it was loaded`);
      return doc;
    },
  };

  const outcomes: EventOutcome[] = [];
  const applyStarted = performance.now();
  const loadedBefore = loadSeconds;
  for (const sourced of batch) {
    let next: { view: ViewName; id: string; doc: ViewDoc | null; evolved: ViewDoc | null }[];
    try {
      const targets = projections
        .filter((projection) => projection.handles.has(sourced.event.eventType))
        .flatMap((projection) =>
          guarded(projection, () => projection.ids(sourced, read)).map((id) => ({ projection, id })),
        );
      const extra = new Map<ViewName, Set<string>>();
      for (const { projection, id } of targets) {
        if (!current[projection.view].has(id))
          extra.set(projection.view, (extra.get(projection.view) ?? new Set()).add(id));
      }
      // Not guarded: a store error is the store's, not the event's, and fails the batch.
      if (extra.size > 0) await ensureLoaded(extra);
      // Every projection of the event runs before any document is replaced, so that a failure
      // leaves no part of the event behind.
      next = targets.map(({ projection, id }) => {
        const doc = current[projection.view].get(id) ?? null;
        return {
          view: projection.view,
          id,
          doc,
          evolved: guarded(projection, () => projection.evolve(doc, sourced, id, read)),
        };
      });
    } catch (err) {
      if (!(err instanceof ProjectionFailure)) throw err;
      outcomes.push(err.failure);
      continue;
    }
    // The map bounds apply before the size limit: a document kept in bounds rarely nears it.
    const cut: { view: ViewName; entries: ArchivedEntry[] }[] = [];
    for (const step of next) {
      if (step.evolved === step.doc || step.evolved === null) continue;
      const bounded = boundMaps(step.view, step.evolved, mapBounds);
      step.evolved = bounded.doc;
      if (bounded.archived.length > 0) cut.push({ view: step.view, entries: bounded.archived });
    }
    const tooLarge = next.find(
      ({ doc, evolved }) =>
        evolved !== doc && evolved !== null && BSON.calculateObjectSize(evolved) > maxDocumentBytes,
    );
    if (tooLarge) {
      outcomes.push({
        code: ERROR_CODES.DOCUMENT_TOO_LARGE,
        reason: `The event would take a ${tooLarge.view} document past ${maxDocumentBytes} bytes`,
      });
      continue;
    }
    for (const { view, entries } of cut) for (const entry of entries) archived[view].set(entry._id, entry);
    let changed = false;
    for (const { view, id, doc, evolved } of next) {
      if (evolved === doc || evolved === null) continue;
      current[view].set(id, evolved);
      changed = true;
    }
    outcomes.push(changed ? 'applied' : 'noop');
  }
  onStage?.('apply', (performance.now() - applyStarted) / 1_000 - (loadSeconds - loadedBefore));

  // Every document this round reads is loaded by now.
  const aheadRead = readAhead(store, options.upcoming, before);
  const written = await beside(aheadRead, () =>
    timedStage(onStage, 'write', () => writeRound(store, WRITE_STEPS, archived, before, current)),
  );
  const count = (what: EventOutcome) => outcomes.filter((o) => o === what).length;
  return {
    aheadRead,
    applied: count('applied'),
    noop: count('noop'),
    failed: outcomes.filter((o) => typeof o === 'object').length,
    changed: outcomes.map((o) => o === 'applied'),
    outcomes,
    written,
  };
}

/**
 * Reads the wanted documents a round has not read yet into `before` and `current`, null for those
 * the store does not have.
 */
async function loadMissing(
  store: ViewStore,
  wanted: Map<ViewName, Set<string>>,
  before: Record<ViewName, Map<string, ViewDoc | null>>,
  current: Record<ViewName, Map<string, ViewDoc | null>>,
): Promise<void> {
  await Promise.all(
    [...wanted].map(async ([view, ids]) => {
      const missing = [...ids].filter((id) => !before[view].has(id));
      if (missing.length === 0) return;
      const found = await store.load(view, missing);
      for (const id of missing) {
        const doc = found.get(id) ?? null;
        before[view].set(id, doc);
        current[view].set(id, doc);
      }
    }),
  );
}

/**
 * Writes a round: the entries the map bounds took out, then every document that changed from
 * `before`, in `steps`; resolves with the documents written per view.
 */
async function writeRound(
  store: ViewStore,
  steps: WriteSteps,
  archived: Record<ViewName, Map<string, ArchivedEntry>>,
  before: Record<ViewName, Map<string, ViewDoc | null>>,
  current: Record<ViewName, Map<string, ViewDoc | null>>,
): Promise<Record<ViewName, number>> {
  // Archived before they leave the documents, so that a crash between the two loses no entry.
  await settleAll(
    VIEW_NAMES.filter((view) => archived[view].size > 0).map((view) =>
      store.archive(view, [...archived[view].values()]),
    ),
  );
  const written = { citizens: 0, enterprises: 0, vehicles: 0, dossiers: 0 };
  for (const step of steps) {
    // Every view of a step ends before a failure is thrown, so that a retry never overlaps it.
    await settleAll(
      step.map(async (view) => {
        const changes: DocChange[] = [];
        for (const [id, doc] of current[view]) {
          const old = before[view].get(id) ?? null;
          if (doc !== null && doc !== old) changes.push({ before: old, after: doc });
        }
        written[view] = await store.write(view, changes);
      }),
    );
  }
  return written;
}

/** A change of the internal topic, decoded: one event for one view document. */
export interface SourcedChange {
  sourced: SourcedEvent;
  change: Change;
}

/** What applying a round of changes did; `outcomes` is in the order of the changes. */
export interface ChangesOutcome {
  outcomes: EventOutcome[];
  written: Record<ViewName, number>;
  /** The dependent changes the home changes gave, handed to `beforeWrite` before any write. */
  dependents: Change[];
  /** As in {@link BatchOutcome}. */
  aheadRead: Promise<void>;
}

/**
 * Applies a round of changes of the internal topic (see `changes.ts`), each to its one document,
 * in order, and writes the result, as {@link materialize} does for whole events.
 *
 * - A dependent or direct change runs its view's projection on its document, with the home
 *   document, when its projection reads one, as the change carries it.
 * - A home change runs every projection that handles the event with the home document as it is
 *   before the event (this round's earlier changes included): the home document is evolved here,
 *   and every other document the projections name becomes a dependent change carrying that state.
 *
 * `beforeWrite` is given the dependents before any document is written, and must not resolve
 * before Kafka holds them: the home document is written after them, as `enterprises` is written
 * last in {@link materialize}, so that a replay after a crash never finds the home document ahead
 * of what its dependents were sent. Its views are written at once ({@link CHANGES_WRITE_STEPS}).
 */
export async function materializeChanges(
  batch: readonly SourcedChange[],
  store: ViewStore,
  options: {
    projections?: readonly Projection[];
    maxDocumentBytes?: number;
    mapBounds?: MapBounds;
    beforeWrite?: (dependents: readonly Change[]) => Promise<void>;
    onStage?: StageTimer;
    /** As in {@link materialize}. */
    upcoming?: () => DocumentsByView;
  } = {},
): Promise<ChangesOutcome> {
  const { onStage } = options;
  const projections = options.projections ?? PROJECTIONS;
  const mapBounds = options.mapBounds ?? MAP_BOUNDS;
  const maxDocumentBytes = options.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  const archived = viewMaps<ArchivedEntry>();
  const before = viewMaps<ViewDoc | null>();
  const current = viewMaps<ViewDoc | null>();
  await timedStage(onStage, 'load', () =>
    loadMissing(store, byView(batch.map(({ change }) => change)), before, current),
  );

  const outcomes: EventOutcome[] = [];
  const dependents: Change[] = [];
  const applyStarted = performance.now();
  for (const { sourced, change } of batch) {
    const own = documentKey(change.view, change.id);
    // A projection reads its own document as this round has it, others as the change carries them.
    const read: ViewReader = {
      get(view, id) {
        const key = documentKey(view, id);
        if (key === own) return current[view].get(id) ?? null;
        if (change.context.has(key)) return change.context.get(key) ?? null;
        throw new Error(`${key} is read by a projection of ${own}, but the change does not carry it`);
      },
    };
    let evolved: ViewDoc | null;
    const doc = current[change.view].get(change.id) ?? null;
    const sent: Change[] = [];
    try {
      const mine = projections.filter(
        (p) => p.view === change.view && p.handles.has(sourced.event.eventType),
      );
      evolved = doc;
      // A home change's own document is changed only if a projection names it, as any other.
      let named = !change.home;
      if (change.home) {
        const context = new Map([[own, contextOf(doc)]]);
        for (const projection of projections.filter((p) => p.handles.has(sourced.event.eventType)))
          for (const id of guarded(projection, () => projection.ids(sourced, read))) {
            if (documentKey(projection.view, id) === own) named = true;
            else sent.push({ ...change, view: projection.view, id, home: false, context });
          }
      }
      for (const projection of named ? mine : []) {
        const next = guarded(projection, () => projection.evolve(evolved, sourced, change.id, read));
        if (next !== null) evolved = next;
      }
    } catch (err) {
      if (!(err instanceof ProjectionFailure)) throw err;
      outcomes.push(err.failure);
      continue;
    }
    if (evolved !== doc && evolved !== null) {
      const bounded = boundMaps(change.view, evolved, mapBounds);
      if (BSON.calculateObjectSize(bounded.doc) > maxDocumentBytes) {
        outcomes.push({
          code: ERROR_CODES.DOCUMENT_TOO_LARGE,
          reason: `The event would take a ${change.view} document past ${maxDocumentBytes} bytes`,
        });
        continue;
      }
      for (const entry of bounded.archived) archived[change.view].set(entry._id, entry);
      current[change.view].set(change.id, bounded.doc);
    }
    dependents.push(...sent);
    outcomes.push(evolved !== doc && evolved !== null ? 'applied' : 'noop');
  }

  onStage?.('apply', (performance.now() - applyStarted) / 1_000);
  const { beforeWrite } = options;
  if (dependents.length > 0 && beforeWrite)
    await timedStage(onStage, 'dependents', () => beforeWrite(dependents));
  // Begun only now: reads during the wait for Kafka made that wait longer, by as much as they saved.
  const aheadRead = readAhead(store, options.upcoming, before);
  const written = await beside(aheadRead, () =>
    timedStage(onStage, 'write', () => writeRound(store, CHANGES_WRITE_STEPS, archived, before, current)),
  );
  return { outcomes, written, dependents, aheadRead };
}

/**
 * The documents an event changes, for an event whose projections read no other document (see
 * `homeDocument`): what the first stage sends each its change. A projection that throws, or reads
 * another document after all, fails the event.
 */
export function directTargets(
  sourced: SourcedEvent,
  projections: readonly Projection[] = PROJECTIONS,
): { view: ViewName; id: string }[] | ApplyFailure {
  const read: ViewReader = {
    get(view, id) {
      throw new Error(`${view}/${id} is read to route an event that reads no document`);
    },
  };
  try {
    return projections
      .filter((p) => p.handles.has(sourced.event.eventType))
      .flatMap((p) =>
        [...new Set(guarded(p, () => p.ids(sourced, read)))].map((id) => ({ view: p.view, id })),
      );
  } catch (err) {
    if (err instanceof ProjectionFailure) return err.failure;
    throw err;
  }
}

/** What a projection threw, told apart from the store's errors. */
class ProjectionFailure extends Error {
  constructor(readonly failure: ApplyFailure) {
    super(failure.reason);
  }
}

/** Runs a projection's function; what it throws becomes the event's failure. */
function guarded<T>(projection: Projection, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw new ProjectionFailure(projectionFailed(projection, err));
  }
}

function projectionFailed(projection: Projection, err: unknown): ApplyFailure {
  // The error's name only: its message may quote identifiers, and dead-letter headers are read
  // widely. The service logs the error itself.
  const name = err instanceof Error ? err.name : typeof err;
  return {
    code: ERROR_CODES.PROJECTION_FAILED,
    reason: `The ${projection.view} projection threw ${name}`,
    cause: err,
  };
}

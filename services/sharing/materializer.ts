import { BSON } from 'mongodb';
import { type LienthongEvent } from '../../schemas/generated/events';
import { ERROR_CODES } from '../platform/errors';
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

/** Every view's projection. */
export const PROJECTIONS: readonly Projection[] = [
  citizensProjection,
  enterprisesProjection,
  vehiclesProjection,
  dossiersProjection,
];

/**
 * The order views are written in. `enterprises` comes last: the citizens projection reads an
 * enterprise's legal representative from it, so if a crash cuts a batch's writes short, the
 * replay still finds the representative as it was before the batch.
 */
const WRITE_ORDER: readonly ViewName[] = ['citizens', 'vehicles', 'dossiers', 'enterprises'];

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
}

function viewMaps<T>(): Record<ViewName, Map<string, T>> {
  return { citizens: new Map(), enterprises: new Map(), vehicles: new Map(), dossiers: new Map() };
}

/** The ids each view's documents are known by in an event's subjects. */
function subjectIds(event: LienthongEvent): Record<ViewName, readonly string[]> {
  const { citizenIds, enterpriseCodes, plates, dossierIds } = event.subjects;
  return { citizens: citizenIds, enterprises: enterpriseCodes, vehicles: plates, dossiers: dossierIds };
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
  options: { projections?: readonly Projection[]; maxDocumentBytes?: number; mapBounds?: MapBounds } = {},
): Promise<BatchOutcome> {
  const projections = options.projections ?? PROJECTIONS;
  const mapBounds = options.mapBounds ?? MAP_BOUNDS;
  const archived = viewMaps<ArchivedEntry>();
  const maxDocumentBytes = options.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  const before = viewMaps<ViewDoc | null>();
  const current = viewMaps<ViewDoc | null>();

  const ensureLoaded = async (wanted: Map<ViewName, Set<string>>): Promise<void> => {
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
  };

  const named = new Map<ViewName, Set<string>>(VIEW_NAMES.map((v) => [v, new Set()]));
  for (const { event } of batch) {
    const ids = subjectIds(event);
    for (const view of VIEW_NAMES) for (const id of ids[view]) named.get(view)?.add(id);
  }
  await ensureLoaded(named);

  const read: ViewReader = {
    get(view, id) {
      const doc = current[view].get(id);
      if (doc === undefined) throw new Error(`${view}/${id} was read before it was loaded`);
      return doc;
    },
  };

  const outcomes: EventOutcome[] = [];
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

  // Archived before they leave the documents, so that a crash between the two loses no entry.
  for (const view of WRITE_ORDER) {
    if (archived[view].size > 0) await store.archive(view, [...archived[view].values()]);
  }
  const written = { citizens: 0, enterprises: 0, vehicles: 0, dossiers: 0 };
  for (const view of WRITE_ORDER) {
    const changes: DocChange[] = [];
    for (const [id, doc] of current[view]) {
      const old = before[view].get(id) ?? null;
      if (doc !== null && doc !== old) changes.push({ before: old, after: doc });
    }
    written[view] = await store.write(view, changes);
  }
  const count = (what: EventOutcome) => outcomes.filter((o) => o === what).length;
  return {
    applied: count('applied'),
    noop: count('noop'),
    failed: outcomes.filter((o) => typeof o === 'object').length,
    changed: outcomes.map((o) => o === 'applied'),
    outcomes,
    written,
  };
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

import { type LienthongEvent } from '../../schemas/generated/events';
import {
  type Projection,
  type SourcedEvent,
  VIEW_NAMES,
  type ViewDoc,
  type ViewName,
  type ViewReader,
} from './projection';
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

/** What applying a batch did. */
export interface BatchOutcome {
  /** Events that changed at least one view document. */
  applied: number;
  /** Duplicates and superseded events: they changed nothing. */
  noop: number;
  /** For each event of the batch, in order, whether it changed a view. */
  changed: boolean[];
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
 */
export async function materialize(
  batch: readonly SourcedEvent[],
  store: ViewStore,
  projections: readonly Projection[] = PROJECTIONS,
): Promise<BatchOutcome> {
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

  const changedFlags: boolean[] = [];
  for (const sourced of batch) {
    const targets: { projection: Projection; id: string }[] = [];
    for (const projection of projections) {
      if (!projection.handles.has(sourced.event.eventType)) continue;
      for (const id of projection.ids(sourced, read)) targets.push({ projection, id });
    }
    const extra = new Map<ViewName, Set<string>>();
    for (const { projection, id } of targets) {
      if (!current[projection.view].has(id))
        extra.set(projection.view, (extra.get(projection.view) ?? new Set()).add(id));
    }
    if (extra.size > 0) await ensureLoaded(extra);

    const next = targets.map(({ projection, id }) => {
      const doc = current[projection.view].get(id) ?? null;
      return { view: projection.view, id, doc, evolved: projection.evolve(doc, sourced, id, read) };
    });
    let changed = false;
    for (const { view, id, doc, evolved } of next) {
      if (evolved === doc || evolved === null) continue;
      current[view].set(id, evolved);
      changed = true;
    }
    changedFlags.push(changed);
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
  const applied = changedFlags.filter(Boolean).length;
  return { applied, noop: batch.length - applied, changed: changedFlags, written };
}

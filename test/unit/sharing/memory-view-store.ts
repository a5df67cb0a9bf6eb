import { type ArchivedEntry } from '../../../services/sharing/map-bounds';
import {
  changedPaths,
  removedPaths,
  VIEW_NAMES,
  type ViewDoc,
  type ViewName,
  type ViewReader,
} from '../../../services/sharing/projection';
import { type ViewStore } from '../../../services/sharing/view-store';

/** Every view's documents, by id. */
export type Snapshot = Record<ViewName, Record<string, ViewDoc>>;

/** One `updateOne` the store received. */
export interface RecordedWrite {
  view: ViewName;
  id: string;
  set: Record<string, unknown>;
  unset?: string[];
}

export interface MemoryViewStore extends ViewStore {
  /** A deep copy of every document. */
  snapshot(): Snapshot;
  /** Every `$set` written, in order. */
  writes: RecordedWrite[];
  /** Each view's archive, by entry id. */
  archives: Record<ViewName, Map<string, ArchivedEntry>>;
}

/**
 * A deep copy that keeps dates as this realm's `Date`: jest's `structuredClone` comes from outside
 * the test's VM context, and its dates would fail the projections' `instanceof Date`.
 */
export function deepCopy<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)])) as T;
  }
  return value;
}

/** `value` without any `ingestedAt`: the one provenance field a replay does not reproduce. */
export function withoutIngestedAt<T>(value: T): T {
  if (value instanceof Date || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(withoutIngestedAt) as T;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'ingestedAt')
      .map(([k, v]) => [k, withoutIngestedAt(v)]),
  ) as T;
}

/**
 * Applies a `$set` the way MongoDB does, and refuses what MongoDB refuses: a field name that is
 * empty or starts with `$`, two paths of which one is inside the other, and a path through a
 * value that is not an object.
 */
function applySet(doc: Record<string, unknown>, set: Record<string, unknown>): void {
  const paths = Object.keys(set);
  for (const path of paths) {
    if (path.split('.').some((key) => key === '' || key.startsWith('$'))) {
      throw new Error(`Invalid field name in ${path}`);
    }
    const clash = paths.find((other) => other.startsWith(`${path}.`));
    if (clash !== undefined)
      throw new Error(`Updating the path '${clash}' would create a conflict at '${path}'`);
  }
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let node = doc;
    for (const key of keys) {
      if (node[key] === undefined) node[key] = {};
      const child = node[key];
      if (typeof child !== 'object' || child === null || child instanceof Date || Array.isArray(child)) {
        throw new Error(`Cannot create field in element ${key} of ${path}`);
      }
      node = child as Record<string, unknown>;
    }
    node[last] = deepCopy(value);
  }
}

/**
 * A {@link ViewStore} held in memory: `load` answers copies, and `write` applies each change's
 * {@link changedPaths} as a `$set` with upsert, as the MongoDB store does.
 */
export function createMemoryViewStore(initial: Partial<Snapshot> = {}): MemoryViewStore {
  const views = new Map<ViewName, Map<string, ViewDoc>>(
    VIEW_NAMES.map((view) => [view, new Map(Object.entries(deepCopy(initial[view] ?? {})))]),
  );
  const docsOf = (view: ViewName): Map<string, ViewDoc> => views.get(view) as Map<string, ViewDoc>;
  const writes: RecordedWrite[] = [];
  const archives = Object.fromEntries(VIEW_NAMES.map((view) => [view, new Map()])) as Record<
    ViewName,
    Map<string, ArchivedEntry>
  >;

  return {
    writes,

    async load(view, ids) {
      const found = new Map<string, ViewDoc>();
      for (const id of ids) {
        const doc = docsOf(view).get(id);
        if (doc) found.set(id, deepCopy(doc));
      }
      return found;
    },

    async write(view, changes) {
      let count = 0;
      for (const { before, after } of changes) {
        const set = changedPaths(before, after);
        const unset = removedPaths(before, after);
        if (Object.keys(set).length === 0 && unset.length === 0) continue;
        const doc = docsOf(view).get(after._id) ?? { _id: after._id };
        applySet(doc, set);
        for (const path of unset) {
          const keys = path.split('.');
          const last = keys.pop() as string;
          const node = keys.reduce<Record<string, unknown> | undefined>(
            (n, k) => n?.[k] as Record<string, unknown> | undefined,
            doc,
          );
          if (node) Reflect.deleteProperty(node, last);
        }
        docsOf(view).set(after._id, doc);
        writes.push({ view, id: after._id, set: deepCopy(set), ...(unset.length > 0 ? { unset } : {}) });
        count += 1;
      }
      return count;
    },

    archives,
    async archive(view, entries) {
      for (const entry of entries) archives[view].set(entry._id, deepCopy(entry));
    },

    snapshot() {
      return Object.fromEntries(
        VIEW_NAMES.map((view) => [view, Object.fromEntries(deepCopy([...docsOf(view)]))]),
      ) as Snapshot;
    },
  };
}

/** A {@link ViewReader} over fixed documents; any other document does not exist. */
export function readerOf(docs: Partial<Record<ViewName, readonly ViewDoc[]>> = {}): ViewReader {
  return {
    get(view, id) {
      return docs[view]?.find((doc) => doc._id === id) ?? null;
    },
  };
}

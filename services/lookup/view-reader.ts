import { type Db } from 'mongodb';
import { type ViewDoc, type ViewName } from '../sharing/projection';
import { readCatalog } from '../sharing/view-catalog';

export interface ViewReader {
  /** The view document with this `_id`, or null; only the `fields` paths of it when given. */
  get(view: ViewName, id: string, fields?: readonly string[]): Promise<ViewDoc | null>;
}

/**
 * Reads view documents by `_id`, the one filter FerretDB pushes down, from the collection the view
 * catalog names. The catalog is cached for `ttlMs`, so a lookup costs one read and a rebuild's
 * swap is seen within that time. `onRead` is told of each document read.
 */
export function createViewReader(db: Db, ttlMs: number, onRead?: () => void): ViewReader {
  let catalog: Promise<Record<ViewName, string>> | undefined;
  let loadedAt = 0;
  const collections = (): Promise<Record<ViewName, string>> => {
    // A cache age: elapsed time, which the bus clock (shifted or pinned) must not stretch.
    if (!catalog || Date.now() - loadedAt > ttlMs) {
      loadedAt = Date.now();
      catalog = readCatalog(db);
      // A failed read is not cached: the next lookup asks again.
      catalog.catch(() => {
        catalog = undefined;
      });
    }
    return catalog;
  };
  return {
    async get(view, id, fields) {
      const name = (await collections())[view];
      // `id` matched its view's pattern in the route schema: a plain string, never an operator.
      // A projection still filters on `_id` alone, so it is pushed down like any other read.
      const projection = fields && projectionOf(fields);
      onRead?.();
      return db.collection<ViewDoc>(name).findOne({ _id: id }, projection ? { projection } : {});
    },
  };
}

/**
 * An inclusion projection of `paths`, without a path under another one it holds: MongoDB refuses
 * a projection naming both `dossier` and `dossier.applicant` (a path collision). No path at all
 * reads the `_id` alone: an empty projection would read the whole document.
 */
export function projectionOf(paths: readonly string[]): Record<string, 1> {
  if (paths.length === 0) return { _id: 1 };
  const unique = [...new Set(paths)];
  const kept = unique.filter((p) => !unique.some((q) => q !== p && p.startsWith(`${q}.`)));
  return Object.fromEntries(kept.sort().map((p) => [p, 1 as const]));
}

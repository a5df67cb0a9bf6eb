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
 * swap is seen within that time.
 */
export function createViewReader(db: Db, ttlMs: number): ViewReader {
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
      const projection = fields && Object.fromEntries(fields.map((f) => [f, 1]));
      return db.collection<ViewDoc>(name).findOne({ _id: id }, projection ? { projection } : {});
    },
  };
}

import { type ViewDoc, type ViewName } from './projection';

/**
 * How many entries each growing map of a view document keeps. Past it, the oldest entries move to
 * the view's archive collection (`<collection>_archive`), so that a document stays far below
 * MongoDB's 16 MiB whatever an entity's age:
 * - `vehicles.history`: 100 registrations, transfers and deregistrations of a plate;
 * - `dossiers.timeline`: 100 statuses of a dossier;
 * - `citizens.dossiers`, `enterprises.dossiers`: 200 dossiers of a party.
 *
 * "Oldest" is by the entry's own time (`at`, else `statusChangedAt`, else `receivedAt`, else its
 * event's `occurredAt`), and closed dossiers go before open ones, so an open dossier leaves a
 * party's document last. Lookups read the documents, so they see the newest entries only; the
 * archive is for audit. The tax and vehicle maps are keyed by identifiers a party holds at once, and
 * stay small.
 */
export const MAP_BOUNDS: Readonly<Record<ViewName, Readonly<Record<string, number>>>> = {
  citizens: { dossiers: 200 },
  enterprises: { dossiers: 200 },
  vehicles: { history: 100 },
  dossiers: { timeline: 100 },
};

export type MapBounds = Readonly<Record<ViewName, Readonly<Record<string, number>>>>;

/** An entry moved out of a document, as the archive collection holds it. */
export interface ArchivedEntry {
  /** `[docId, map, key]` as JSON: unique, and the same whenever a replay archives the entry again. */
  _id: string;
  docId: string;
  map: string;
  key: string;
  entry: Record<string, unknown>;
}

type Entry = Record<string, unknown>;

function timeOf(entry: Entry): number {
  for (const field of ['at', 'statusChangedAt', 'receivedAt']) {
    const value = entry[field];
    if (value instanceof Date) return value.getTime();
  }
  const occurredAt = (entry.source as { occurredAt?: unknown } | undefined)?.occurredAt;
  return occurredAt instanceof Date ? occurredAt.getTime() : 0;
}

/** Closed before open, then older first, then by key: the same order on every replica and replay. */
function older([ka, a]: [string, Entry], [kb, b]: [string, Entry]): number {
  const openA = a.open === true ? 1 : 0;
  const openB = b.open === true ? 1 : 0;
  return openA - openB || timeOf(a) - timeOf(b) || (ka < kb ? -1 : ka > kb ? 1 : 0);
}

/**
 * `doc` with each bounded map cut to its bound, and the entries cut; `doc` itself when no map is
 * past its bound.
 */
export function boundMaps(
  view: ViewName,
  doc: ViewDoc,
  bounds: MapBounds = MAP_BOUNDS,
): { doc: ViewDoc; archived: ArchivedEntry[] } {
  let out = doc;
  const archived: ArchivedEntry[] = [];
  for (const [map, bound] of Object.entries(bounds[view])) {
    const container = doc[map];
    if (typeof container !== 'object' || container === null) continue;
    const entries = Object.entries(container as Record<string, Entry>);
    if (entries.length <= bound) continue;
    const sorted = entries.sort(older);
    const cut = sorted.slice(0, entries.length - bound);
    const cutKeys = new Set(cut.map(([key]) => key));
    // The kept entries in the map's own key order, as the document had them.
    const kept = Object.fromEntries(
      Object.entries(container as Record<string, Entry>).filter(([key]) => !cutKeys.has(key)),
    );
    for (const [key, entry] of cut) {
      archived.push({ _id: JSON.stringify([doc._id, map, key]), docId: doc._id, map, key, entry });
    }
    out = { ...out, [map]: kept };
  }
  return { doc: out, archived };
}

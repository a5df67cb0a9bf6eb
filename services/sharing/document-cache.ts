import { BSON } from 'mongodb';
import { type ViewDoc } from './projection';

/**
 * The view documents this writer last read or wrote, so that a document changed again in a later
 * round is not read back from the store. It is sound only because each document has one writer:
 * the one instance in direct mode, and the member that holds its partition of the changes topic
 * otherwise (see the README's several instances). The service clears it whenever that could stop
 * holding: at each join of its group, when the collections change hands (a rebuild), and after a
 * write the store did not acknowledge whole.
 *
 * Absence is kept too (`null`): a document the store did not have is not asked for again until
 * this writer writes it. Documents are shared with the rounds that read them, which never change a
 * document in place (projections return new ones).
 */
export interface DocumentCache {
  /** The document as this writer last knew it; null when absent; undefined when not known. */
  get(collection: string, id: string): ViewDoc | null | undefined;
  /** Whether `get` would answer, without counting it or making the entry recent. */
  knows(collection: string, id: string): boolean;
  /**
   * Keeps `doc` as the document's state. `readAhead` marks a document read before any round asked
   * for it: the first `get` counts it under `stats.ahead` rather than as a hit.
   */
  set(collection: string, id: string, doc: ViewDoc | null, readAhead?: boolean): void;
  clear(): void;
  /**
   * How many times it was cleared: a read begun before a clear must not be kept after it, since
   * what it read may no longer hold.
   */
  readonly generation: number;
  /** Documents kept, and their cost in bytes (BSON plus a fixed cost an entry). */
  readonly size: number;
  readonly bytes: number;
  /**
   * Reads answered here (`hits`, and `ahead` for documents read ahead of their round) and reads
   * that went to the store (`misses`), since the start.
   */
  readonly stats: { hits: number; ahead: number; misses: number };
}

/**
 * The BSON bytes of the documents the writer keeps, by default. A document holds about 2.3 times
 * its BSON in heap once read (3.7 KiB for the demo stream's 1.6 KiB on average, over its 16,668
 * documents), so about 37 MiB of heap: kept by count instead, 10,000 of the lookup benchmark's
 * documents took the sharing service to 285 MiB, past its 256.
 */
export const DEFAULT_CACHE_BYTES = 16 * 1_048_576;

/** A key no document id can forge: ids are strings without a NUL. */
const keyOf = (collection: string, id: string): string => `${collection}\u0000${id}`;

/** What an entry costs: its BSON size, and a small fixed cost for the key and an absence. */
const ENTRY_BYTES = 64;

/**
 * A cache of documents worth at most `maxBytes` of BSON, least recently used out first (a Map
 * keeps its insertion order, and a hit is moved to its end). A document alone past the budget is
 * not kept.
 */
export function createDocumentCache(
  maxBytes: number,
  sizeOf: (doc: ViewDoc) => number = (doc) => BSON.calculateObjectSize(doc),
): DocumentCache {
  const entries = new Map<string, { doc: ViewDoc | null; bytes: number; readAhead: boolean }>();
  const stats = { hits: 0, ahead: 0, misses: 0 };
  let bytes = 0;
  let generation = 0;
  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    bytes -= entry.bytes;
  };
  return {
    get(collection, id) {
      const key = keyOf(collection, id);
      const entry = entries.get(key);
      if (entry === undefined) {
        stats.misses += 1;
        return undefined;
      }
      if (entry.readAhead) stats.ahead += 1;
      else stats.hits += 1;
      entry.readAhead = false;
      entries.delete(key);
      entries.set(key, entry);
      return entry.doc;
    },
    knows(collection, id) {
      return entries.has(keyOf(collection, id));
    },
    set(collection, id, doc, readAhead = false) {
      const key = keyOf(collection, id);
      remove(key);
      const cost = ENTRY_BYTES + (doc === null ? 0 : sizeOf(doc));
      if (cost > maxBytes) return;
      entries.set(key, { doc, bytes: cost, readAhead });
      bytes += cost;
      for (const oldest of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
    clear() {
      entries.clear();
      bytes = 0;
      generation += 1;
    },
    get generation() {
      return generation;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
    stats,
  };
}

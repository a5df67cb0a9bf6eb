import { type Db, MongoServerError } from 'mongodb';
import { type Clock } from '../platform/clock';
import { ERROR_CODES, UnavailableError } from '../platform/errors';
import { type ViewName } from './projection';

/**
 * The view catalog: a log of generations, each saying which collections serve the views. The
 * newest generation is the one in force. See {@link readGeneration}.
 */
export const VIEW_GENERATIONS = 'view_generations';

/** The default collection names, generation 0's: each view's own name. */
export const LIVE_COLLECTIONS: Readonly<Record<ViewName, string>> = Object.freeze({
  citizens: 'citizens',
  enterprises: 'enterprises',
  vehicles: 'vehicles',
  dossiers: 'dossiers',
});

/** Why a generation was claimed. */
export const GENERATION_REASONS = {
  /** A rebuild stops the live consumer's writes while it catches its shadow up. */
  FENCE: 'fence',
  /** A rebuild's caught-up, verified shadow collections serve the views from now on. */
  SWAP: 'swap',
  /** A rebuild gave up the handover; the same collections, written again. */
  FENCE_LIFTED: 'fence-lifted',
  /** A fence outlived its lease (its rebuild died): a writer took the same collections back. */
  FENCE_EXPIRED: 'fence-expired',
} as const;
export type GenerationReason = (typeof GENERATION_REASONS)[keyof typeof GENERATION_REASONS];

/** Per view: the documents a rebuild's replay wrote, and a digest of their content hashes. */
export type GenerationManifest = Record<ViewName, { documents: number; digest: string }>;

/**
 * One generation of the views. `_id` is its number and the fencing token: each number is claimed
 * once, by an insert that the store's unique `_id` lets only one writer win.
 */
export interface ViewGeneration {
  _id: number;
  collections: Record<ViewName, string>;
  /** While set and `until` is ahead, nobody writes `collections`: a rebuild is handing over. */
  fence: { rebuild: string; until: Date } | null;
  reason: GenerationReason | 'initial';
  /** The rebuild that claimed it, or `live` for the sharing service. */
  by: string;
  at: Date;
  /** For a swap: what the replay wrote into the new collections, checked before the swap. */
  manifest?: GenerationManifest;
}

const INITIAL: ViewGeneration = Object.freeze({
  _id: 0,
  collections: { ...LIVE_COLLECTIONS },
  fence: null,
  reason: 'initial',
  by: 'live',
  at: new Date(0),
});

/** The generation in force: the newest claimed, or generation 0 (the views' own names) if none. */
export async function readGeneration(db: Db): Promise<ViewGeneration> {
  // A handful of rows a rebuild; FerretDB scans them, which costs less than a point read.
  const [newest] = await db
    .collection<ViewGeneration>(VIEW_GENERATIONS)
    .find({})
    .sort({ _id: -1 })
    .limit(1)
    .toArray();
  return newest ?? INITIAL;
}

/**
 * The collection serving each view now. Read at every lookup (cached briefly) and by a rebuild;
 * the live consumer reads it through {@link writableCollections}.
 */
export async function readCatalog(db: Db): Promise<Record<ViewName, string>> {
  return (await readGeneration(db)).collections;
}

/**
 * Claims generation `entry._id`: true if this insert made it, false if another writer already had.
 * The store's unique `_id` is the one atomic step FerretDB 1.24 offers between writers (its
 * update operators read and rewrite), so every change of the catalog is a claim, never an update
 * of the generation in force.
 */
export async function claimGeneration(db: Db, entry: ViewGeneration): Promise<boolean> {
  try {
    await db.collection<ViewGeneration>(VIEW_GENERATIONS).insertOne(entry);
    return true;
  } catch (err) {
    if (err instanceof MongoServerError && err.code === 11000) return false;
    throw err;
  }
}

/** The views are fenced for a rebuild's handover: the write is tried again later. */
export class ViewsFencedError extends UnavailableError {
  override name = 'ViewsFencedError';

  constructor(readonly generation: ViewGeneration) {
    super(
      ERROR_CODES.VIEWS_FENCED,
      `The views are fenced by rebuild ${generation.fence?.rebuild} until ${generation.fence?.until.toISOString()}`,
    );
  }
}

/**
 * How long the live writer goes on using a reading of the catalog that showed no fence, ms, counted
 * from when it asked. A rebuild waits this long after raising its fence before it takes its
 * handover offsets (see `rebuild.ts`), so that no round begun on a reading older than the fence
 * holds a message past them.
 */
export const CATALOG_READING_MS = 1_000;

/**
 * The collections the live consumer may write now, asked at the start of a write round.
 *
 * - No fence: the generation's collections.
 * - A fence whose lease runs: throws {@link ViewsFencedError}, which the consumer retries, with
 *   heartbeats, without committing; the events it holds are written after the handover, to
 *   whichever collections are then in force.
 * - A fence past its lease (its rebuild died): claims the next generation with the same
 *   collections, unfenced, and writes them. The rebuild's swap then finds its number taken and
 *   gives up, so a slow rebuild never swaps over writes it did not catch.
 *
 * @see https://martin.kleppmann.com/2016/02/08/how-to-do-distributed-locking.html (fencing tokens)
 */
export async function writableCollections(db: Db, clock: Clock): Promise<Record<ViewName, string>> {
  for (;;) {
    const current = await readGeneration(db);
    if (!current.fence) return current.collections;
    // A lease is elapsed time, which the bus clock (shifted or pinned) must not stretch.
    if (current.fence.until.getTime() > Date.now()) throw new ViewsFencedError(current);
    const claimed = await claimGeneration(db, {
      _id: current._id + 1,
      collections: current.collections,
      fence: null,
      reason: GENERATION_REASONS.FENCE_EXPIRED,
      by: 'live',
      at: new Date(clock()),
    });
    if (claimed) return current.collections;
    // Someone else claimed it (the rebuild's swap, or another writer): read what is in force now.
  }
}

/**
 * {@link writableCollections}, with its answer kept for `readingMs` from when it was asked: at tens
 * of rounds a second the catalog's read was a store command in every one. Only an answer is kept:
 * a fence (thrown) is read again at the next round, so the writer sees a swap or a lifted fence at
 * once. `now` is monotonic, ms; tests give their own.
 */
export function writableCollectionsReader(
  db: Db,
  clock: Clock,
  readingMs = CATALOG_READING_MS,
  now: () => number = () => performance.now(),
): () => Promise<Record<ViewName, string>> {
  let kept: { collections: Record<ViewName, string>; until: number } | undefined;
  return async () => {
    const asked = now();
    if (kept && asked < kept.until) return kept.collections;
    kept = undefined;
    const collections = await writableCollections(db, clock);
    kept = { collections, until: asked + readingMs };
    return collections;
  };
}

import { type AnyBulkWriteOperation, type Db } from 'mongodb';
import { MAX_STATEMENTS_PER_BULK_WRITE, statementChunks } from '../platform/mongo';
import { type DocumentCache } from './document-cache';
import { type ArchivedEntry } from './map-bounds';
import { changedPaths, removedPaths, VIEW_NAMES, type ViewDoc, type ViewName } from './projection';

/**
 * At most this many updates go in one `update` command of the views: a round writes its views at
 * once, one command each, and together they carry at most the project's limit
 * (`MAX_STATEMENTS_PER_BULK_WRITE` in services/platform/mongo.ts). FerretDB 1.24 on SQLite keeps
 * every statement's SQLite connection until its whole command ends, from a pool of 100: update
 * commands in flight at once in one database with more than 100 statements in all wait for each
 * other for ever, and commands that touch that database after them too, until a restart (3 or 4
 * commands of 50 updates did; 4 of 25, beside 16 point reads, did not).
 */
export const STORE_WRITE_CHUNK = MAX_STATEMENTS_PER_BULK_WRITE / VIEW_NAMES.length;

/** How many single-document reads are in flight at once. */
const READ_CONCURRENCY = 16;

/** A document before and after a batch; `before` is null when it did not exist. */
export interface DocChange {
  before: ViewDoc | null;
  after: ViewDoc;
}

export interface ViewStore {
  /** The documents with these ids that exist, by id. */
  load(view: ViewName, ids: readonly string[]): Promise<Map<string, ViewDoc>>;
  /**
   * Reads into the writer's cache the documents with these ids that it does not know, for a round
   * to come; never rejects. A store without a cache has none.
   */
  readAhead?(view: ViewName, ids: readonly string[]): Promise<void>;
  /** Writes what changed, section by section. Resolves once every write is acknowledged. */
  write(view: ViewName, changes: readonly DocChange[]): Promise<number>;
  /** Keeps entries the map bounds took out of the view's documents; writing one again is a no-op. */
  archive(view: ViewName, entries: readonly ArchivedEntry[]): Promise<void>;
}

/** What the writer of the views is told around each write command. */
export interface WriteHooks {
  /** Runs before each write command; throwing stops the writes. */
  beforeCommand?: () => void;
  /** A write command of `collection` acknowledged, with the ids it wrote and when it was sent. */
  afterCommand?: (collection: string, docs: readonly ViewDoc[], sentAt: number) => void;
}

/** How a view store is told around its writes, and the documents it may answer reads from. */
export interface ViewStoreOptions extends WriteHooks {
  /** Answers reads of documents this writer knows, and learns every document it reads or writes. */
  cache?: DocumentCache;
}

/** The collection that keeps what the map bounds took out of a view collection's documents. */
export const archiveOf = (collection: string): string => `${collection}_archive`;

/**
 * The views in MongoDB. Every read and write filters on `_id` alone: FerretDB 1.24 pushes only
 * that filter down to SQLite and scans the whole table for any other. The version guard therefore
 * lives in the projections, which see the current document, and a write sets only the sections
 * that changed, so consumers of different partitions never undo each other's sections.
 *
 * `collections` maps a view to its collection: the catalog's in the live consumer, a rebuild's
 * shadow ones in its replay. `onWritten`, when given, is told each document as written, once the
 * store acknowledged it: a rebuild keeps that account to check its collections against.
 * `hooks.beforeCommand` runs before each write command and may throw to stop the writes: the live
 * consumer's check that it is still a member of its group (`membership-lease.ts`).
 * `hooks.afterCommand` is told each command's documents once acknowledged, with when it was sent.
 * `hooks.cache`, when given, answers reads of the documents it knows and learns each document read
 * or acknowledged; a write command that fails clears it, since the store may have taken part of it.
 * `readAhead` fills it only, for a round to come; without it, it reads nothing.
 */
export function createViewStore(
  db: Db,
  collections: Readonly<Record<ViewName, string>>,
  onWritten?: (view: ViewName, docs: readonly ViewDoc[]) => void,
  hooks: ViewStoreOptions = {},
): ViewStore {
  const beforeCommand = hooks.beforeCommand ?? (() => undefined);
  const afterCommand = hooks.afterCommand ?? (() => undefined);
  const cache = hooks.cache;
  /**
   * Reads `ids` one point read each, at most READ_CONCURRENCY at once, taking them out of the
   * array, and tells the cache each one, unless it was cleared meanwhile; resolves with those that
   * exist.
   */
  const pointReads = async (view: ViewName, ids: string[], readAhead: boolean) => {
    const name = collections[view];
    const collection = db.collection<ViewDoc>(name);
    const found = new Map<string, ViewDoc>();
    const generation = cache?.generation;
    // One point read per document: FerretDB 1.24 answers `{_id: {$in: [...]}}` by scanning the
    // collection (README, materialization), 15 to 50 times slower at 20,000 documents.
    const worker = async (): Promise<void> => {
      for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
        const doc = await collection.findOne({ _id: id });
        if (cache?.generation === generation) cache?.set(name, id, doc, readAhead);
        if (doc) found.set(id, doc);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker));
    return found;
  };
  return {
    async load(view, ids) {
      const name = collections[view];
      const found = new Map<string, ViewDoc>();
      const queue: string[] = [];
      for (const id of new Set(ids)) {
        const known = cache?.get(name, id);
        if (known === undefined) queue.push(id);
        else if (known !== null) found.set(id, known);
      }
      for (const [id, doc] of await pointReads(view, queue, false)) found.set(id, doc);
      return found;
    },

    async readAhead(view, ids) {
      if (cache === undefined) return;
      const name = collections[view];
      const unknown = [...new Set(ids)].filter((id) => !cache.knows(name, id));
      await pointReads(view, unknown, true).catch(() => undefined);
    },

    async write(view, changes) {
      const collection = db.collection<ViewDoc>(collections[view]);
      const ops: AnyBulkWriteOperation<ViewDoc>[] = [];
      // The document each operation writes; the unchanged ones are as the store has them already.
      const docs: ViewDoc[] = [];
      const unchanged: ViewDoc[] = [];
      for (const { before, after } of changes) {
        const set = changedPaths(before, after);
        const unset = removedPaths(before, after);
        if (Object.keys(set).length === 0 && unset.length === 0) {
          if (before !== null) unchanged.push(after);
          continue;
        }
        const update = {
          ...(Object.keys(set).length > 0 ? { $set: set } : {}),
          ...(unset.length > 0
            ? { $unset: Object.fromEntries(unset.map((path) => [path, '' as const])) }
            : {}),
        };
        ops.push({ updateOne: { filter: { _id: after._id }, update, upsert: true } });
        docs.push(after);
      }
      onWritten?.(view, unchanged);
      let written = 0;
      for (const chunk of statementChunks(ops, STORE_WRITE_CHUNK)) {
        beforeCommand();
        const sentAt = Date.now();
        try {
          await collection.bulkWrite(chunk, { ordered: false });
        } catch (err) {
          cache?.clear();
          throw err;
        }
        const chunkDocs = docs.slice(written, written + chunk.length);
        for (const doc of chunkDocs) cache?.set(collections[view], doc._id, doc);
        afterCommand(collections[view], chunkDocs, sentAt);
        // Told chunk by chunk, so that a round cut short still accounts for what was written.
        onWritten?.(view, chunkDocs);
        written += chunk.length;
      }
      return ops.length;
    },

    async archive(view, entries) {
      const collection = db.collection<ArchivedEntry>(archiveOf(collections[view]));
      for (const chunk of statementChunks(entries, STORE_WRITE_CHUNK)) {
        beforeCommand();
        await collection.bulkWrite(
          chunk.map((entry) => ({
            replaceOne: { filter: { _id: entry._id }, replacement: entry, upsert: true },
          })),
          { ordered: false },
        );
      }
    },
  };
}

import { MongoClient, type MongoClientOptions } from 'mongodb';
import { type Logger } from 'pino';

/**
 * The driver features lienthong's code relies on, and nothing more: each works on MongoDB 6+
 * and on FerretDB 1.24. Transactions, change streams and aggregation beyond these are not
 * assumed. Code that needs another feature adds it here and to the integration tests first.
 */
export const STORE_FEATURES: readonly string[] = Object.freeze([
  'insertOne and insertMany',
  'find and findOne with equality filters',
  // FerretDB 1.24 on SQLite pushes down only a filter that is exactly { _id: <string> }; any other
  // filter scans the collection. Hot paths (the views' reads and writes) filter on _id alone.
  'updateOne with upsert, filtered on _id',
  // FerretDB 1.24 stopped answering, until restarted, on one update command of 150 replace
  // statements (101 worked): every write command carries at most MAX_STATEMENTS_PER_BULK_WRITE.
  'unordered bulkWrite (insertOne, updateOne with upsert, replaceOne), at most 100 statements a command',
  // Single-document atomicity of update operators is NOT relied on across writers: FerretDB 1.24
  // reads a document, applies $set in Go and writes it back without a transaction, so two
  // concurrent writers to one document can lose a field. One writer per sharing instance
  // (services/sharing/apply-queue.ts), and one instance, write the views; on MongoDB more are safe.
  // FerretDB 1.24 panics (and drops the connection) on a createIndexes of several indexes when any
  // of them exists already: indexes are created one per command.
  'createIndex, one index per command, including unique indexes',
  'countDocuments',
  'ping',
  'write concern majority with journal',
]);

/**
 * The most statements one write command may carry: every `insertMany` and `bulkWrite` of the
 * project is cut into runs of at most this many ({@link statementChunks}). FerretDB 1.24 on SQLite
 * stopped answering, and stayed stuck until a restart, on one `update` command of 150 replace
 * statements; one of 101 worked.
 */
export const MAX_STATEMENTS_PER_BULK_WRITE = 100;

/**
 * `statements` cut, in order, into runs of at most `size`, itself at most
 * {@link MAX_STATEMENTS_PER_BULK_WRITE}: one write command each. No statement gives no run.
 *
 * @throws RangeError when `size` is not a whole number from 1 to the limit
 */
export function statementChunks<T>(
  statements: readonly T[],
  size: number = MAX_STATEMENTS_PER_BULK_WRITE,
): T[][] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_STATEMENTS_PER_BULK_WRITE) {
    throw new RangeError(
      `A write command carries 1 to ${MAX_STATEMENTS_PER_BULK_WRITE} statements, not ${size}`,
    );
  }
  const chunks: T[][] = [];
  for (let i = 0; i < statements.length; i += size) chunks.push(statements.slice(i, i + size));
  return chunks;
}

export interface CreateMongoClientOptions {
  uri: string;
  /** Shown in the server's logs and `currentOp`, so operators know which service is connected. */
  appName: string;
  logger: Logger;
  /** How long an operation waits for a usable server before failing; 10 s by default. */
  serverSelectionTimeoutMS?: number;
}

/**
 * A `MongoClient` for the views and the audit trail, **not connected yet**: the service's
 * `start()` calls `connect()` and its `stop()` calls `close()`, so the client's life follows the
 * service's lifecycle and a builder stays free of I/O.
 *
 * Options chosen to behave the same on MongoDB 6+ and FerretDB 1.24:
 * - majority, journaled writes: offsets are committed after view writes, so an acknowledged
 *   write must survive a failover; on a standalone server or FerretDB this equals `w: 1`;
 * - primary reads only: lookups must see the writes the consumer just made;
 * - retryable writes stay at the driver default; the driver uses them only on replica sets, and
 *   FerretDB presents itself as a standalone server.
 */
export function createMongoClient(options: CreateMongoClientOptions): MongoClient {
  const clientOptions: MongoClientOptions = {
    appName: options.appName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    writeConcern: { w: 'majority', journal: true },
    readPreference: 'primary',
  };
  const client = new MongoClient(options.uri, clientOptions);
  const log = options.logger.child({ component: 'mongodb' });
  // Topology changes are rare and explain most store incidents; commands are not logged.
  client.on('serverHeartbeatFailed', (event) =>
    log.warn({ server: event.connectionId, err: event.failure }, 'MongoDB server heartbeat failed'),
  );
  client.on('topologyDescriptionChanged', (event) =>
    log.debug(
      { from: event.previousDescription.type, to: event.newDescription.type },
      'MongoDB topology changed',
    ),
  );
  return client;
}

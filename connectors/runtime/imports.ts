import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { type Logger } from 'pino';
import { type BackoffPolicy, backoffDelay } from '../../services/platform/backoff';
import { type Clock, systemClock } from '../../services/platform/clock';
import { ERROR_CODES, isRetriable, LienthongError } from '../../services/platform/errors';
import { isAuthorizationError } from '../../services/platform/kafka';
import { type AgencyDefinition, type RecordIssue } from './agency';
import { createImportClaims, type ImportClaim } from './import-claims';
import { createImportStore, type ImportStatus } from './import-store';
import { type Ingest } from './ingest';

export { type ImportStatus, ImportStatusSchema } from './import-store';

export const IMPORT_FORMATS = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' } as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[keyof typeof IMPORT_FORMATS];

/** Rows are published this many at a time; the checkpoint moves after each chunk is acknowledged. */
const CHUNK_ROWS = 500;
/** Row rejections kept for `GET /v1/imports/{id}`; all of them go to quarantine regardless. */
const KEPT_REJECTIONS = 1_000;
/**
 * The waits between tries of an import that Kafka could not take: from half a second, doubling,
 * to 30 s. Kafka's own outages (a broker restart, a leader election) last seconds to minutes.
 */
export const IMPORT_RETRY: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
/** How long the spool file of an ended import is kept by default: a week, to look into a complaint. */
export const IMPORT_RETENTION_MS = 7 * 86_400_000;
/** How often, in elapsed time, the spool files whose retention is over are looked for. */
const SWEEP_EVERY_MS = 10 * 60_000;

/** Another instance took the import over: this one stops before its next write. */
class ImportClaimLost extends Error {
  override name = 'ImportClaimLost';
}

const unfinished = (status: ImportStatus): boolean => status.state === 'queued' || status.state === 'running';

/** A file refused as a whole: its structure, not a row, is wrong. */
export class ImportRefused extends Error {
  override name = 'ImportRefused';
  constructor(
    message: string,
    readonly issues: RecordIssue[],
  ) {
    super(message);
  }
}

/**
 * File imports: CSV or NDJSON, streamed to a spool file and then through the same ingest path as
 * `POST /v1/records`, never read whole into memory.
 *
 * Each import's progress is a status file beside its data, written durably after every chunk
 * Kafka acknowledged ({@link createImportStore}). Unfinished imports resume after the last
 * acknowledged row, so acknowledged rows are not published again:
 * - in the running process, after a passing failure (Kafka unavailable, a send whose outcome is
 *   unknown), with a backoff of {@link IMPORT_RETRY}; the status shows `retries`, `lastError` and
 *   `retryAt` meanwhile;
 * - after a restart.
 * A chunk in doubt (sent, not acknowledged) is sent again: at most one chunk per failure, whose
 * events keep their eventIds, so the views apply them once. Any other failure (Kafka refusing
 * this principal, the spool file gone) ends the import `failed`, with a stable `failureCode`.
 *
 * Several instances of one agency's connector may share the spool directory: each import is run
 * by one of them at a time, the holder of its lease ({@link createImportClaims}). An instance
 * runs the imports it accepted, and every {@link ImportClaims.scanEveryMs} adopts those whose
 * lease nobody holds: queued behind others, or left by an instance that stopped or died. Any
 * instance answers `GET /v1/imports/{id}` from the shared status files.
 *
 * The spool file of an import that ended is removed `retentionMs` after it ended, by the clock:
 * at start, after each import ends, and every {@link SWEEP_EVERY_MS}.
 */
export function createImports(options: {
  definition: AgencyDefinition;
  ingest: Ingest;
  spoolDir: string;
  logger: Logger;
  /** Reception and progress times, and the retention period's; the system clock by default. */
  clock?: Clock;
  /** How long an ended import's spool file is kept; {@link IMPORT_RETENTION_MS} by default. */
  retentionMs?: number;
  /** The waits between tries after a passing failure; {@link IMPORT_RETRY} by default. */
  retry?: BackoffPolicy;
  /** How long an import's lease lasts unrenewed; {@link IMPORT_LEASE_MS} by default. */
  leaseMs?: number;
}) {
  const { definition, ingest, logger } = options;
  const clock = options.clock ?? systemClock;
  const retentionMs = options.retentionMs ?? IMPORT_RETENTION_MS;
  const retry = options.retry ?? IMPORT_RETRY;
  const store = createImportStore({ spoolDir: options.spoolDir, clock, logger });
  const claims = createImportClaims({
    spoolDir: options.spoolDir,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
  });
  // The imports this instance has queued or is running.
  const pending = new Set<string>();
  const now = () => new Date(clock()).toISOString();
  let queue: Promise<void> = Promise.resolve();
  let stopping = false;
  // Ends the wait before a retry at once when the connector stops.
  const stopped = new AbortController();
  let sweepTimer: NodeJS.Timeout | undefined;
  let scanTimer: NodeJS.Timeout | undefined;
  let scanning: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  let sweepAgain = false;

  /**
   * Rows of the spooled file after row `after` as native records (CSV rows converted), numbered
   * from 1. Rows up to `after` are counted, not parsed: a retry of a large file skips them quickly.
   */
  async function* rowsOf(
    id: string,
    format: ImportFormat,
    after: number,
  ): AsyncGenerator<{ row: number; record: unknown } | { row: number; issues: RecordIssue[]; raw: unknown }> {
    const input = createReadStream(store.dataFile(id));
    let row = 0;
    try {
      if (format === 'ndjson') {
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          if (line.trim() === '') continue;
          row += 1;
          if (row <= after) continue;
          try {
            yield { row, record: JSON.parse(line) as unknown };
          } catch (error) {
            yield {
              row,
              raw: line,
              issues: [{ path: '$', code: 'MALFORMED_JSON', message: (error as Error).message }],
            };
          }
        }
        return;
      }
      for await (const values of input.pipe(parse({ columns: true, bom: true, trim: true }))) {
        row += 1;
        if (row <= after) continue;
        const converted = definition.csv.toNative(values as Record<string, string>);
        yield converted.ok
          ? { row, record: converted.value }
          : { row, raw: values, issues: converted.issues };
      }
    } finally {
      // A run that stops or fails midway leaves no open file behind.
      input.destroy();
    }
  }

  /** Writes the status, unless another instance took the import over. */
  async function save(status: ImportStatus, claim: ImportClaim): Promise<void> {
    if (!claim.held()) throw new ImportClaimLost(`Import ${status.id} was taken over`);
    await store.save(status);
  }

  /** Publishes the rows after the checkpoint, moving it after each acknowledged chunk. */
  async function run(status: ImportStatus, claim: ImportClaim): Promise<void> {
    if (status.format === undefined) {
      throw new LienthongError(ERROR_CODES.IMPORT_STATUS_CORRUPT, `Import ${status.id} has no format`);
    }
    status.state = 'running';
    delete status.retryAt;
    await save(status, claim);
    const submission = () => ({
      source: 'import' as const,
      importId: status.id,
      traceparent: status.traceparent,
      receivedAt: clock(),
    });
    const reject = (row: number, errors: RecordIssue[]): void => {
      status.rejected += 1;
      if (status.rejections.length < KEPT_REJECTIONS) status.rejections.push({ row, errors });
    };
    let chunk: { row: number; record: unknown }[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      if (!claim.held()) throw new ImportClaimLost(`Import ${status.id} was taken over`);
      const outcomes = await ingest.ingest(
        chunk.map((c) => c.record),
        submission(),
      );
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'accepted') status.accepted += 1;
        else reject(chunk[i]?.row ?? 0, outcome.errors);
      });
      status.rowsDone = chunk.at(-1)?.row ?? status.rowsDone;
      await save(status, claim);
      chunk = [];
    };
    for await (const item of rowsOf(status.id, status.format, status.rowsDone)) {
      if (stopping) return;
      if ('issues' in item) {
        // Unreadable rows are refused like invalid ones, through the same path, in order.
        await flush();
        await ingest.refuse(item.raw, item.issues, submission());
        reject(item.row, item.issues);
        status.rowsDone = item.row;
        await save(status, claim);
        continue;
      }
      chunk.push(item);
      if (chunk.length >= CHUNK_ROWS) await flush();
    }
    await flush();
    if (stopping) return;
    status.state = 'completed';
    status.finishedAt = now();
    await save(status, claim);
    logger.info(
      { importId: status.id, accepted: status.accepted, rejected: status.rejected, retries: status.retries },
      'Import completed',
    );
  }

  /**
   * Runs an import to its end: again from its checkpoint after each passing failure, after a
   * backoff that starts over once a try moved the checkpoint; `failed` after any other.
   */
  async function drive(status: ImportStatus, claim: ImportClaim): Promise<void> {
    let failures = 0;
    let rowsDoneAtFailure = -1;
    while (!stopping) {
      try {
        await run(status, claim);
        return;
      } catch (error) {
        if (error instanceof ImportClaimLost) {
          logger.warn(
            { importId: status.id, rowsDone: status.rowsDone },
            'Import taken over by another instance',
          );
          return;
        }
        // Stopping fails the chunk in flight (the publisher is closing): it resumes at the next start.
        if (stopping && isRetriable(error)) return;
        if (!isRetriable(error)) {
          logger.error({ err: error, importId: status.id }, 'Import failed');
          status.state = 'failed';
          status.failureCode = errorCodeOf(error);
          status.failure = (error as Error).message;
          status.finishedAt = now();
          await save(status, claim);
          return;
        }
        failures = status.rowsDone > rowsDoneAtFailure ? 1 : failures + 1;
        rowsDoneAtFailure = status.rowsDone;
        const delay = backoffDelay(failures, retry);
        status.retries = (status.retries ?? 0) + 1;
        status.lastError = { code: errorCodeOf(error), message: (error as Error).message };
        status.retryAt = new Date(clock() + delay).toISOString();
        await save(status, claim);
        logger.warn(
          { err: error, importId: status.id, rowsDone: status.rowsDone, failures, delayMs: delay },
          'Import paused by a passing failure; it resumes from its checkpoint',
        );
        try {
          await sleep(delay, undefined, { signal: stopped.signal });
        } catch {
          return;
        }
      }
    }
  }

  /**
   * Claims an import and runs it, renewing its lease meanwhile; does nothing when another
   * instance holds it or it has ended. The status is read after the claim: the previous holder
   * may have moved it on since this instance last read it.
   */
  async function claimAndDrive(id: string): Promise<void> {
    const claim = await claims.claim(id);
    if (claim === undefined) return;
    const renewal = setInterval(() => {
      claim
        .renew()
        .catch((err: unknown) => logger.warn({ err, importId: id }, 'Could not renew an import lease'));
    }, claims.renewEveryMs);
    try {
      const status = store.read(id);
      if (status === undefined || !unfinished(status)) return;
      if (claim.generation > 1) logger.info({ importId: id, rowsDone: status.rowsDone }, 'Resuming import');
      await drive(status, claim);
    } catch (error) {
      if (error instanceof ImportClaimLost) return;
      // Its status could not be written: it stays as last written, and is resumed from there.
      logger.error({ err: error, importId: id }, 'Import stopped: its status cannot be written');
    } finally {
      clearInterval(renewal);
      // Stopping, or ended: either way the next holder need not wait for the lease to run out.
      await claim.release().catch(() => undefined);
    }
  }

  function enqueue(id: string): void {
    if (pending.has(id)) return;
    pending.add(id);
    queue = queue.then(async () => {
      try {
        if (!stopping) await claimAndDrive(id);
      } finally {
        pending.delete(id);
      }
      void sweep();
    });
  }

  /** Queues the unfinished imports, oldest first, whose lease nobody holds. One scan at a time. */
  function adopt(): Promise<void> {
    scanning ??= (async () => {
      try {
        const free = (await store.list())
          .filter((s) => unfinished(s) && !pending.has(s.id) && claims.claimable(s.id))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        for (const status of free) enqueue(status.id);
      } catch (error) {
        logger.warn({ err: error }, 'Could not look for imports to resume');
      } finally {
        scanning = undefined;
      }
    })();
    return scanning;
  }

  /** One sweep of ended imports' spool files at a time; a request during one runs another after it. */
  function sweep(): Promise<void> {
    if (sweeping) {
      sweepAgain = true;
      return sweeping;
    }
    sweeping = (async () => {
      do {
        sweepAgain = false;
        try {
          // With its spool file gone, nothing can run an import again: its lease files go too.
          await store.sweep(retentionMs, (id) => claims.remove(id));
        } catch (error) {
          logger.warn({ err: error }, 'Could not remove the spool files of ended imports');
        }
      } while (sweepAgain && !stopping);
      sweeping = undefined;
    })();
    return sweeping;
  }

  /** Checks a spooled CSV file's structure: its header and its quoting, streamed. */
  async function checkCsv(id: string): Promise<number> {
    let rows = 0;
    const parser = createReadStream(store.dataFile(id)).pipe(
      parse({
        bom: true,
        trim: true,
        columns: (header: string[]) => {
          const missing = definition.csv.columns.filter((c) => !header.includes(c));
          const unknown = header.filter((c) => !definition.csv.columns.includes(c));
          if (missing.length > 0 || unknown.length > 0) {
            throw new ImportRefused('The CSV header does not match the agency format', [
              ...missing.map((c) => ({
                path: `$.${c}`,
                code: 'MISSING_COLUMN',
                message: `Column ${c} is missing`,
              })),
              ...unknown.map((c) => ({
                path: `$.${c}`,
                code: 'UNKNOWN_COLUMN',
                message: `Column ${c} is not in the format`,
              })),
            ]);
          }
          return header;
        },
      }),
    );
    try {
      for await (const _row of parser) rows += 1;
    } catch (error) {
      if (error instanceof ImportRefused) throw error;
      const where = (error as { lines?: number }).lines;
      throw new ImportRefused(`The CSV cannot be read: ${(error as Error).message}`, [
        { path: where ? `$[line ${where}]` : '$', code: 'MALFORMED_CSV', message: (error as Error).message },
      ]);
    }
    return rows;
  }

  async function countLines(id: string): Promise<number> {
    let rows = 0;
    for await (const line of createInterface({
      input: createReadStream(store.dataFile(id)),
      crlfDelay: Infinity,
    })) {
      if (line.trim() !== '') rows += 1;
    }
    return rows;
  }

  return {
    /**
     * Spools an upload, checks its structure, and queues it. Resolves with its status once the
     * file is durably on disk; rows are published afterwards, in order.
     * @throws ImportRefused when the file as a whole cannot be read
     */
    async accept(body: Readable, format: ImportFormat, traceparent: string): Promise<ImportStatus> {
      const id = randomUUID();
      try {
        const receivedBytes = await store.spool(id, body);
        const rows = format === 'csv' ? await checkCsv(id) : await countLines(id);
        const at = now();
        const status: ImportStatus = {
          id,
          format,
          state: 'queued',
          receivedBytes,
          rows,
          rowsDone: 0,
          accepted: 0,
          rejected: 0,
          rejections: [],
          traceparent,
          createdAt: at,
          updatedAt: at,
        };
        await store.save(status);
        enqueue(id);
        return status;
      } catch (error) {
        await store.discard(id);
        throw error;
      }
    },

    /** An import's status; failed with `IMPORT_STATUS_CORRUPT` when its file cannot be read. */
    status: (id: string): ImportStatus | undefined => store.read(id),

    /**
     * Resumes the unfinished imports nobody holds, oldest first, after marking those whose status
     * is corrupt failed, and keeps adopting such imports every {@link ImportClaims.scanEveryMs};
     * then removes the spool files whose retention is over, and keeps doing so every
     * {@link SWEEP_EVERY_MS}.
     */
    async start(): Promise<void> {
      await store.recover();
      await adopt();
      scanTimer = setInterval(() => void adopt(), claims.scanEveryMs);
      scanTimer.unref();
      await sweep();
      sweepTimer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
      sweepTimer.unref();
    },

    /** Stops after the chunk in flight, its checkpoint written, or at once when waiting to retry. */
    async stop(): Promise<void> {
      stopping = true;
      stopped.abort();
      clearInterval(sweepTimer);
      clearInterval(scanTimer);
      await scanning;
      await queue;
      await sweeping;
    },
  };
}

/**
 * The stable code of what stopped an import: `KAFKA_NOT_AUTHORIZED` when Kafka refused this
 * principal, `IMPORT_SPOOL_MISSING` when its file is gone, the code of a lienthong error, else
 * `INTERNAL`.
 */
function errorCodeOf(error: unknown): string {
  if (isAuthorizationError(error)) return ERROR_CODES.KAFKA_NOT_AUTHORIZED;
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ERROR_CODES.IMPORT_SPOOL_MISSING;
  if (error instanceof LienthongError) return error.code;
  return ERROR_CODES.INTERNAL;
}

export type Imports = ReturnType<typeof createImports>;

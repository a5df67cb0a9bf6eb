import { randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../../services/platform/clock';
import { isRetriable } from '../../services/platform/errors';
import { type AgencyDefinition, type RecordIssue } from './agency';
import { type Ingest } from './ingest';

export const IMPORT_FORMATS = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' } as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[keyof typeof IMPORT_FORMATS];

/** Rows are published this many at a time; the checkpoint moves after each chunk is acknowledged. */
const CHUNK_ROWS = 500;
/** Row rejections kept for `GET /v1/imports/{id}`; all of them go to quarantine regardless. */
const KEPT_REJECTIONS = 1_000;

export interface ImportStatus {
  id: string;
  format: ImportFormat;
  state: 'queued' | 'running' | 'completed' | 'failed';
  receivedBytes: number;
  /** Data rows in the file, known once the upload was checked. */
  rows: number;
  /** Rows up to which everything was acknowledged by Kafka, accepted or quarantined. */
  rowsDone: number;
  accepted: number;
  rejected: number;
  rejections: { row: number; errors: RecordIssue[] }[];
  traceparent: string;
  createdAt: string;
  updatedAt: string;
  failure?: string;
}

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
 * Each import's progress is a JSON file beside its data, rewritten (atomically) after every chunk
 * Kafka acknowledged. After a restart, unfinished imports resume after the last acknowledged row,
 * so acknowledged rows are not published again. A crash between an acknowledgement and the
 * checkpoint that follows it can resend at most one chunk; those events keep their eventIds, so
 * the views apply them once.
 */
export function createImports(options: {
  definition: AgencyDefinition;
  ingest: Ingest;
  spoolDir: string;
  logger: Logger;
  /** Reception and progress times; the system clock by default. */
  clock?: Clock;
}) {
  const { definition, ingest, spoolDir, logger } = options;
  const clock = options.clock ?? systemClock;
  mkdirSync(spoolDir, { recursive: true });
  const dataFile = (id: string) => join(spoolDir, `${id}.data`);
  const statusFile = (id: string) => join(spoolDir, `${id}.json`);
  let queue: Promise<void> = Promise.resolve();
  let stopping = false;

  const save = (status: ImportStatus): void => {
    status.updatedAt = new Date(clock()).toISOString();
    const tmp = `${statusFile(status.id)}.tmp`;
    writeFileSync(tmp, JSON.stringify(status));
    renameSync(tmp, statusFile(status.id));
  };

  const read = (id: string): ImportStatus | undefined => {
    if (!/^[0-9a-f-]{36}$/.test(id) || !existsSync(statusFile(id))) return undefined;
    return JSON.parse(readFileSync(statusFile(id), 'utf8')) as ImportStatus;
  };

  /** Rows of the spooled file as native records (CSV rows converted), numbered from 1. */
  async function* rowsOf(
    status: ImportStatus,
  ): AsyncGenerator<{ row: number; record: unknown } | { row: number; issues: RecordIssue[]; raw: unknown }> {
    const input = createReadStream(dataFile(status.id));
    let row = 0;
    if (status.format === 'ndjson') {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (line.trim() === '') continue;
        row += 1;
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
      const converted = definition.csv.toNative(values as Record<string, string>);
      yield converted.ok ? { row, record: converted.value } : { row, raw: values, issues: converted.issues };
    }
  }

  async function run(status: ImportStatus): Promise<void> {
    status.state = 'running';
    save(status);
    let chunk: { row: number; record: unknown }[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const outcomes = await ingest.ingest(
        chunk.map((c) => c.record),
        { source: 'import', importId: status.id, traceparent: status.traceparent, receivedAt: clock() },
      );
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'accepted') status.accepted += 1;
        else {
          status.rejected += 1;
          const row = chunk[i]?.row ?? 0;
          if (status.rejections.length < KEPT_REJECTIONS)
            status.rejections.push({ row, errors: outcome.errors });
        }
      });
      status.rowsDone = chunk.at(-1)?.row ?? status.rowsDone;
      save(status);
      chunk = [];
    };
    for await (const item of rowsOf(status)) {
      if (stopping) return;
      if (item.row <= status.rowsDone) continue;
      if ('issues' in item) {
        // Unreadable rows are refused like invalid ones, through the same path, in order.
        await flush();
        await ingestUnreadable(status, item.row, item.raw, item.issues);
        continue;
      }
      chunk.push(item);
      if (chunk.length >= CHUNK_ROWS) await flush();
    }
    await flush();
    status.state = 'completed';
    save(status);
    logger.info(
      { importId: status.id, accepted: status.accepted, rejected: status.rejected },
      'Import completed',
    );
  }

  async function ingestUnreadable(
    status: ImportStatus,
    row: number,
    raw: unknown,
    issues: RecordIssue[],
  ): Promise<void> {
    await ingest.refuse(raw, issues, {
      source: 'import',
      importId: status.id,
      traceparent: status.traceparent,
      receivedAt: clock(),
    });
    status.rejected += 1;
    if (status.rejections.length < KEPT_REJECTIONS) status.rejections.push({ row, errors: issues });
    status.rowsDone = row;
    save(status);
  }

  function enqueue(status: ImportStatus): void {
    queue = queue.then(async () => {
      if (stopping) return;
      try {
        await run(status);
      } catch (error) {
        if (isRetriable(error)) {
          // Kafka went away: leave the import queued; it resumes at the next start.
          logger.warn({ err: error, importId: status.id }, 'Import paused: Kafka is unavailable');
          status.state = 'queued';
        } else {
          logger.error({ err: error, importId: status.id }, 'Import failed');
          status.state = 'failed';
          status.failure = (error as Error).message;
        }
        save(status);
      }
    });
  }

  /** Checks a spooled CSV file's structure: its header and its quoting, streamed. */
  async function checkCsv(id: string): Promise<number> {
    let rows = 0;
    const parser = createReadStream(dataFile(id)).pipe(
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
      input: createReadStream(dataFile(id)),
      crlfDelay: Infinity,
    })) {
      if (line.trim() !== '') rows += 1;
    }
    return rows;
  }

  return {
    /**
     * Spools an upload, checks its structure, and queues it. Resolves with its status once the
     * file is safely on disk; rows are published afterwards, in order.
     * @throws ImportRefused when the file as a whole cannot be read
     */
    async accept(body: Readable, format: ImportFormat, traceparent: string): Promise<ImportStatus> {
      const id = randomUUID();
      let receivedBytes = 0;
      body.on('data', (chunk: Buffer) => {
        receivedBytes += chunk.length;
      });
      try {
        await pipeline(body, createWriteStream(dataFile(id)));
        const rows = format === 'csv' ? await checkCsv(id) : await countLines(id);
        const now = new Date(clock()).toISOString();
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
          createdAt: now,
          updatedAt: now,
        };
        save(status);
        enqueue(status);
        return status;
      } catch (error) {
        rmSync(dataFile(id), { force: true });
        throw error;
      }
    },

    status: read,

    /** Resumes the imports a previous process left unfinished. */
    resume(): void {
      for (const name of readdirSync(spoolDir)) {
        if (!name.endsWith('.json')) continue;
        const status = read(name.slice(0, -'.json'.length));
        if (status && (status.state === 'queued' || status.state === 'running')) {
          logger.info({ importId: status.id, rowsDone: status.rowsDone }, 'Resuming import');
          enqueue(status);
        }
      }
    },

    /** Stops after the chunk in flight; its checkpoint is written before this resolves. */
    async stop(): Promise<void> {
      stopping = true;
      await queue;
    },
  };
}

export type Imports = ReturnType<typeof createImports>;

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Readable } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { type Logger } from 'pino';
import { type Clock } from '../../services/platform/clock';
import {
  type DurableFs,
  isDurableTemp,
  nodeDurableFs,
  removeFileDurably,
  writeFileDurably,
} from '../../services/platform/durable-file';
import { ERROR_CODES } from '../../services/platform/errors';

const Issue = Type.Object({ path: Type.String(), code: Type.String(), message: Type.String() });

/**
 * An import's progress: its status file, and the body of `GET /v1/imports/{id}` (without
 * `traceparent`). Times are ISO 8601 readings of the bus clock.
 */
export const ImportStatusSchema = Type.Object({
  id: Type.String(),
  /** Absent only for an import whose status file was found corrupt. */
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')])),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  receivedBytes: Type.Integer({ minimum: 0 }),
  /** Data rows in the file, known once the upload was checked. */
  rows: Type.Integer({ minimum: 0 }),
  /** Rows up to which everything was acknowledged by Kafka, accepted or quarantined: the checkpoint. */
  rowsDone: Type.Integer({ minimum: 0 }),
  accepted: Type.Integer({ minimum: 0 }),
  rejected: Type.Integer({ minimum: 0 }),
  rejections: Type.Array(Type.Object({ row: Type.Integer(), errors: Type.Array(Issue) })),
  traceparent: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  /** When it completed or failed: the retention period of its spool file counts from here. */
  finishedAt: Type.Optional(Type.String()),
  /** Tries that failed for a passing reason (Kafka unavailable) and were made again, in all. */
  retries: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The last such failure. */
  lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  /** While it waits to try again: when it will. */
  retryAt: Type.Optional(Type.String()),
  /** Why it failed, for good: a stable code, and a message. */
  failureCode: Type.Optional(Type.String()),
  failure: Type.Optional(Type.String()),
  /** When its spool file was removed, its retention period over. */
  spoolRemovedAt: Type.Optional(Type.String()),
});

export type ImportStatus = Static<typeof ImportStatusSchema>;

const ID = /^[0-9a-f-]{36}$/;
const STATUS_SUFFIX = '.json';
const CORRUPT_SUFFIX = '.json.corrupt';
/**
 * How old, by its last write, a temporary file must be before a start takes it for a crashed
 * write and removes it. Other instances may share the spool directory, and an upload streams to
 * its temporary file for as long as it lasts: only a file nobody has written for an hour is an orphan.
 */
export const ORPHAN_TEMP_AGE_MS = 3_600_000;
const checkStatus = new Ajv({ allErrors: false, strict: false }).compile<ImportStatus>(ImportStatusSchema);

type Loaded = { ok: true; status: ImportStatus } | { ok: false; reason: string };

/**
 * The spool directory of a connector's imports: for each import, its uploaded file
 * (`<id>.data`) and its status (`<id>.json`), the checkpoint it resumes from.
 *
 * Every file is written with {@link writeFileDurably} (temporary file, fsync, rename, fsync of
 * the directory): a checkpoint the connector acted on survives a crash or a power loss, and is
 * never torn. A status file that is corrupt all the same (a disk fault, a hand edit) fails its
 * own import with `IMPORT_STATUS_CORRUPT`, and its bytes are kept beside it as `<id>.json.corrupt`;
 * the other imports, and the connector, carry on.
 */
export function createImportStore(options: {
  spoolDir: string;
  clock: Clock;
  logger: Logger;
  /** The calls durable writes make: node's, unless a test records them. */
  fs?: DurableFs;
}) {
  const { spoolDir, clock, logger } = options;
  const fs = options.fs ?? nodeDurableFs;
  mkdirSync(spoolDir, { recursive: true });
  const dataFile = (id: string) => join(spoolDir, `${id}.data`);
  const statusFile = (id: string) => join(spoolDir, `${id}${STATUS_SUFFIX}`);
  const now = () => new Date(clock()).toISOString();

  const load = (id: string): Loaded | undefined => {
    let text: string;
    try {
      text = readFileSync(statusFile(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { ok: false, reason: (error as Error).message };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { ok: false, reason: `it is not JSON: ${(error as Error).message}` };
    }
    if (!checkStatus(parsed)) {
      const [first] = checkStatus.errors ?? [];
      return { ok: false, reason: `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}` };
    }
    if (parsed.id !== id) return { ok: false, reason: `it names import ${parsed.id}` };
    return { ok: true, status: parsed };
  };

  /** What is known of an import whose status cannot be read: that it failed, and why. */
  const corruptStatus = (id: string, reason: string): ImportStatus => {
    const data = existsSync(dataFile(id)) ? statSync(dataFile(id)) : undefined;
    const at = now();
    return {
      id,
      state: 'failed',
      receivedBytes: data?.size ?? 0,
      // Unknown: how far it got was in the file that cannot be read.
      rows: 0,
      rowsDone: 0,
      accepted: 0,
      rejected: 0,
      rejections: [],
      traceparent: '',
      createdAt: data ? data.mtime.toISOString() : at,
      updatedAt: at,
      finishedAt: at,
      failureCode: ERROR_CODES.IMPORT_STATUS_CORRUPT,
      failure: `The import's status file cannot be read (${reason}), so how many of its rows were published is unknown. Send the file again: rows already published keep their eventId and have no second effect`,
    };
  };

  const save = async (status: ImportStatus): Promise<void> => {
    status.updatedAt = now();
    await writeFileDurably(statusFile(status.id), JSON.stringify(status), fs);
  };

  /** Fails an import whose status is corrupt, durably, keeping the unreadable bytes beside it. */
  const markCorrupt = async (id: string, reason: string): Promise<ImportStatus> => {
    logger.error({ importId: id, reason }, 'An import status file is corrupt; the import is marked failed');
    if (existsSync(statusFile(id))) {
      await writeFileDurably(join(spoolDir, `${id}${CORRUPT_SUFFIX}`), readFileSync(statusFile(id)), fs);
    }
    const status = corruptStatus(id, reason);
    await save(status);
    return status;
  };

  /** Every import's status, in no particular order; corrupt ones are marked failed on the way. */
  const all = async (): Promise<ImportStatus[]> => {
    const statuses: ImportStatus[] = [];
    for (const name of readdirSync(spoolDir)) {
      if (!name.endsWith(STATUS_SUFFIX)) continue;
      const id = name.slice(0, -STATUS_SUFFIX.length);
      if (!ID.test(id)) continue;
      const loaded = load(id);
      if (loaded === undefined) continue;
      statuses.push(loaded.ok ? loaded.status : await markCorrupt(id, loaded.reason));
    }
    return statuses;
  };

  return {
    dataFile,

    /** Streams an upload to its spool file; resolves with its size once the whole file is on disk. */
    spool(id: string, body: Readable): Promise<number> {
      return writeFileDurably(dataFile(id), body, fs);
    },

    /** Removes the spool file of an upload that was refused. */
    async discard(id: string): Promise<void> {
      await removeFileDurably(dataFile(id), fs);
    },

    /** Writes `status` durably, with the time as its `updatedAt`. */
    save,

    /**
     * An import's status, or undefined when there is no such import. A status file that cannot
     * be read answers as failed with `IMPORT_STATUS_CORRUPT`; the file is marked by the next
     * {@link recover} or {@link sweep}.
     */
    read(id: string): ImportStatus | undefined {
      if (!ID.test(id)) return undefined;
      const loaded = load(id);
      if (loaded === undefined) return undefined;
      return loaded.ok ? loaded.status : corruptStatus(id, loaded.reason);
    },

    /**
     * At start: removes the temporary files of writes a crash interrupted (those not written for
     * {@link ORPHAN_TEMP_AGE_MS} of wall time, since another instance may be writing the others),
     * marks corrupt statuses failed, and answers every import's status.
     */
    async recover(): Promise<ImportStatus[]> {
      for (const name of readdirSync(spoolDir)) {
        if (!isDurableTemp(name)) continue;
        const path = join(spoolDir, name);
        const written = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
        if (written !== undefined && Date.now() - written >= ORPHAN_TEMP_AGE_MS)
          rmSync(path, { force: true });
      }
      return all();
    },

    /** Every import's status, in no particular order; corrupt ones are marked failed on the way. */
    list: all,

    /**
     * Removes the spool files of the imports that completed or failed at least `retentionMs` ago
     * by the clock, calls `afterRemoval` with each one's id (its lease files go then), and records
     * the removal in their status, which stays for `GET`. Only ended imports are touched, and
     * nothing else writes their status.
     *
     * @returns how many spool files it removed
     */
    async sweep(retentionMs: number, afterRemoval?: (id: string) => Promise<void>): Promise<number> {
      let removed = 0;
      for (const status of await all()) {
        if (status.state !== 'completed' && status.state !== 'failed') continue;
        if (status.spoolRemovedAt !== undefined) continue;
        const finished = Date.parse(status.finishedAt ?? status.updatedAt);
        if (!(clock() - finished >= retentionMs)) continue;
        // Removed before it is recorded: a crash in between leaves a status that the next sweep completes.
        await removeFileDurably(dataFile(status.id), fs);
        await afterRemoval?.(status.id);
        status.spoolRemovedAt = now();
        await save(status);
        removed += 1;
      }
      if (removed > 0) logger.info({ removed, retentionMs }, 'Removed the spool files of ended imports');
      return removed;
    },
  };
}

export type ImportStore = ReturnType<typeof createImportStore>;

import { type KeyObject } from 'node:crypto';
import { type Collection, type Db, type Filter, MongoServerError } from 'mongodb';
import { type Logger } from 'pino';
import { type Clock, HANOI_UTC_OFFSET_MS, systemClock } from '../platform/clock';
import { ERROR_CODES, UnavailableError } from '../platform/errors';
import { statementChunks } from '../platform/mongo';
import {
  AGENCY_SYSTEM_ROLE,
  type AuditCopy,
  type AuditEntry,
  type AuditRecord,
  type AuditSeal,
  auditId,
  chain,
  compareWithCopy,
  GENESIS_HASH,
  keyIdOf,
  sealHead,
  verifyChain,
  type VerifyReport,
} from './audit-chain';

export const AUDIT_RECORDS = 'audit_records';
export const AUDIT_SEALS = 'audit_seals';

/** The auditors' filters, newest first, and the time range of the flows. */
const AUDIT_INDEXES = [
  { 'subject.id': 1, seq: -1 },
  // Multikey: one entry per citizen a record concerns. FerretDB 1.24 creates it and answers array
  // matches, though its SQLite backend scans as for every filter but `_id`.
  { citizenIds: 1, seq: -1 },
  { 'actor.id': 1, seq: -1 },
  { 'actor.agency': 1, seq: -1 },
  { dossierId: 1, seq: -1 },
  { at: 1 },
] as const;

/** Tries of one batch when another instance took the same sequence numbers first. */
const MAX_CONFLICTS = 5;
const DUPLICATE_KEY = 11000;

export interface AuditTrailDeps {
  db: Db;
  logger: Logger;
  /** The records' and seals' `at`; the system clock by default. */
  clock?: Clock;
  /**
   * Ed25519 key pair that signs the chain's head. Without it the instance only appends: another
   * writer of the same chain (the subscriptions service beside the lookup service) leaves the
   * seals to the holder of the key, which seals the records it finds after its own head.
   */
  sealKey?: { privateKey: KeyObject; publicKey: KeyObject };
  /** Earlier seal keys still trusted for verification, besides the current one. */
  trustedKeys?: readonly KeyObject[];
  /** How often the head is sealed when it moved. */
  sealEveryMs: number;
  /** How long a write may take before the requests waiting on it are answered 503. */
  writeTimeoutMs: number;
  /** Reads the trail's Kafka copy, which `verify` holds the store against; the store alone when absent. */
  readCopy?: () => Promise<AuditCopy>;
}

/** Filters of the auditors' history; every value has been validated by the route. */
export interface AuditQuery {
  subject?: { view: string; id: string };
  /**
   * Records that concern this citizen: that exposed them in an answer, or asked about them. Records
   * written before `citizenIds` was recorded match by their citizen subject.
   */
  citizenId?: string;
  actorId?: string;
  agency?: string;
  dossierId?: string;
  /** Roles of the actor to include; all when absent. */
  roles?: readonly string[];
  from?: Date;
  to?: Date;
  /** Only records before this sequence number: the cursor of the next page. */
  before?: number;
  limit: number;
}

/**
 * One cell of the data-flow summary: how often `readerAgency` read `sourceAgency`'s data, by its
 * officers' lookups and by the deliveries its systems received under sharing agreements.
 */
export interface FlowRow {
  period: string;
  readerAgency: string;
  sourceAgency: string;
  lookups: number;
  deliveries: number;
}

export type FlowPeriod = 'hour' | 'day' | 'month';

export interface AuditTrail {
  /** Loads the head and creates the indexes; call before the first append. */
  open(): Promise<void>;
  /**
   * Chains and stores `entry`. Resolves once the record is acknowledged by the store; rejects
   * with `STORE_UNAVAILABLE` when it is not within the write timeout, and the caller must then
   * answer 503 without data.
   */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** The last record this instance knows of. */
  head(): { seq: number; hash: string };
  /** Signs the head if it moved since the last seal. */
  seal(): Promise<AuditSeal | undefined>;
  /**
   * Walks the chain from the last seal a walk of this instance verified, or from the start with
   * `full` (and always after a walk that found a breach, until one finds none).
   */
  verify(options?: { full?: boolean }): Promise<VerifyReport>;
  query(query: AuditQuery): Promise<{ records: AuditRecord[]; next: number | null }>;
  flows(from: Date, to: Date, period: FlowPeriod): Promise<FlowRow[]>;
  /** The record with this sequence number, or null. */
  get(seq: number): Promise<AuditRecord | null>;
  /** Records by sequence number, for the Kafka relay's catch-up. */
  range(fromSeq: number, toSeq: number): Promise<AuditRecord[]>;
  /** Called with each stored batch, in chain order. */
  onStored(listener: (records: readonly AuditRecord[]) => void): void;
  /** Called with each seal this instance stored. */
  onSealed(listener: (seal: AuditSeal) => void): void;
  /** The stored seals after sequence number `seq`, in order, for the Kafka relay's catch-up. */
  sealsAfter(seq: number): Promise<AuditSeal[]>;
  /** Stops the seal timer and seals the head one last time. */
  close(): Promise<void>;
}

/** Passes the records on, keeping each one's hash by position for the comparison with the copy. */
async function* tap(
  records: AsyncIterable<AuditRecord>,
  stored: Map<number, string>,
): AsyncIterable<AuditRecord> {
  for await (const record of records) {
    stored.set(Number(record._id), record.hash);
    yield record;
  }
}

interface Waiting {
  entry: AuditEntry;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

/**
 * The hash-chained audit trail in MongoDB, written with group commit: requests that arrive while
 * a write is in flight wait for it and go together in the next one, in arrival order. Record `n`
 * has `_id` n, so a second instance that chained from the same head fails on the unique `_id`,
 * reloads the head and chains again: the chain stays one line whatever the number of writers.
 *
 * After a failed or timed-out write the head is reloaded from the store before the next write,
 * because the write may have landed after all.
 */
export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const clock = deps.clock ?? systemClock;
  const records: Collection<AuditRecord> = deps.db.collection<AuditRecord>(AUDIT_RECORDS);
  const seals: Collection<AuditSeal> = deps.db.collection<AuditSeal>(AUDIT_SEALS);
  const sealKey = deps.sealKey;
  const publicKeys = new Map<string, KeyObject>(
    [...(sealKey ? [sealKey.publicKey] : []), ...(deps.trustedKeys ?? [])].map((k) => [keyIdOf(k), k]),
  );
  const listeners: ((records: readonly AuditRecord[]) => void)[] = [];
  const sealListeners: ((seal: AuditSeal) => void)[] = [];
  let head = { seq: 0, hash: GENESIS_HASH };
  let headKnown = false;
  let sealed = 0;
  let pending: Waiting[] = [];
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  // The highest seal the last clean walk vouched for: where the next incremental walk begins.
  let verifiedSeal: { seq: number; hash: string } | null = null;

  const timed = <T>(work: Promise<T>, what: string): Promise<T> => {
    let timeout: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_resolve, reject) => {
      timeout = setTimeout(
        () =>
          reject(
            new UnavailableError(
              ERROR_CODES.STORE_UNAVAILABLE,
              `${what} took longer than ${deps.writeTimeoutMs} ms`,
            ),
          ),
        deps.writeTimeoutMs,
      );
    });
    // The loser of the race may still reject later (the driver gives up after its own timeout):
    // that rejection is expected and already answered, so it is swallowed here.
    work.catch(() => undefined);
    return Promise.race([work, expiry]).finally(() => clearTimeout(timeout));
  };

  /**
   * Reads the head whole, the sorted read that scans the trail on FerretDB (about 1 ms a record
   * here): timed on a request's path; at `open`, before any request waits on it, not (`untimed`).
   */
  const loadHead = async (untimed = false): Promise<void> => {
    const read = records.findOne({}, { sort: { _id: -1 } });
    const last = untimed ? await read : await timed(read, 'Reading the audit head');
    head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    headKnown = true;
  };

  /**
   * The last record from `from` on, read by `_id`, which the store serves from its index: steps
   * that double until a position is empty, then halving back between the last record found and
   * it. Another writer's `n` records cost about 2·log2(n) point reads, where the sorted read of
   * `loadHead` scans the whole trail on FerretDB.
   */
  const headAfter = async (from: { seq: number; hash: string }): Promise<{ seq: number; hash: string }> => {
    let found = from;
    let step = 1;
    let empty = 0;
    for (;;) {
      const probe = await records.findOne({ _id: auditId(found.seq + step) });
      if (!probe) {
        empty = found.seq + step;
        break;
      }
      found = { seq: probe.seq, hash: probe.hash };
      step *= 2;
    }
    while (empty - found.seq > 1) {
      const middle = Math.floor((found.seq + empty) / 2);
      const probe = await records.findOne({ _id: auditId(middle) });
      if (probe) found = { seq: probe.seq, hash: probe.hash };
      else empty = middle;
    }
    return found;
  };
  // Another writer took the positions after the head: the next try finds the new head by `_id`.
  let behind = false;

  const writeBatch = async (batch: Waiting[]): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      let written = 0;
      try {
        if (!headKnown) await loadHead();
        else if (behind) head = await timed(headAfter(head), 'Reading the audit head');
        behind = false;
        const at = new Date(clock());
        let { seq, hash } = head;
        const chained = batch.map((w) => {
          const record = chain(w.entry, (seq += 1), hash, at);
          hash = record.hash;
          return record;
        });
        // A larger queue is written in several insert commands, in order.
        for (const chunk of statementChunks(chained)) {
          await timed(records.insertMany(chunk, { ordered: true }), 'Writing the audit trail');
          const last = chunk.at(-1) as AuditRecord;
          head = { seq: last.seq, hash: last.hash };
          chunk.forEach((record, k) => batch[written + k]?.resolve(record));
          written += chunk.length;
          for (const listener of listeners) listener(chunk);
        }
        return;
      } catch (err) {
        batch = batch.slice(written);
        const conflict = err instanceof MongoServerError && err.code === DUPLICATE_KEY;
        // After a conflict the head only moved on; after any other failure the write may have
        // landed after all, or not at all, and the head is read again whole.
        if (conflict) behind = true;
        else headKnown = false;
        if (conflict && attempt < MAX_CONFLICTS) continue;
        const failure =
          err instanceof UnavailableError
            ? err
            : new UnavailableError(ERROR_CODES.STORE_UNAVAILABLE, 'The audit trail cannot be written', {
                cause: err,
              });
        deps.logger.error({ err, records: batch.length }, 'Audit write failed; answering 503');
        for (const w of batch) w.reject(failure);
        return;
      }
    }
  };

  const schedule = (): void => {
    if (flushing || pending.length === 0) return;
    const batch = pending;
    pending = [];
    flushing = writeBatch(batch).finally(() => {
      flushing = null;
      schedule();
    });
  };

  /**
   * Moves the head over the records another writer appended after it, read by `_id`, which the
   * store serves from its index; only between writes, whose own head would race this one.
   */
  const catchUp = async (): Promise<void> => {
    if (flushing || !headKnown) return;
    const from = head;
    const found = await headAfter(from);
    // A write of this instance began or ended meanwhile: its head is the newer one.
    if (!flushing && head.seq === from.seq) head = found;
  };

  const seal = async (): Promise<AuditSeal | undefined> => {
    if (!sealKey) return undefined;
    await catchUp();
    if (!headKnown || head.seq <= sealed) return undefined;
    const signed = sealHead(
      { seq: head.seq, hash: head.hash, at: new Date(clock()) },
      sealKey.privateKey,
      sealKey.publicKey,
    );
    try {
      await seals.insertOne(signed);
      for (const listener of sealListeners) listener(signed);
    } catch (err) {
      // Another instance sealed the same head: its seal says the same, and its relay copies it.
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
    }
    sealed = signed.seq;
    return signed;
  };

  /** The comparison with the Kafka copy, a step of its own after the store's walk. */
  const holdAgainstCopy = async (
    report: VerifyReport,
    stored: ReadonlyMap<number, string>,
    storedSeals: readonly AuditSeal[],
    readCopy: () => Promise<AuditCopy>,
  ): Promise<VerifyReport> => {
    let copy: AuditCopy;
    try {
      copy = await readCopy();
    } catch (err) {
      deps.logger.warn(
        { err },
        'The Kafka copy of the audit trail cannot be read; the store is verified alone',
      );
      return { ...report, copy: { compared: false, lastSeq: 0, sealedSeq: 0 } };
    }
    return compareWithCopy(report, stored, storedSeals, copy, publicKeys);
  };

  return {
    async open() {
      // One index per command: FerretDB 1.24 panics on a createIndexes of several when one of them
      // exists already, which is every start but the first.
      for (const key of AUDIT_INDEXES) await records.createIndex(key);
      await loadHead(true);
      const lastSeal = await seals.findOne({}, { sort: { _id: -1 } });
      sealed = lastSeal?.seq ?? 0;
      if (sealKey) {
        timer = setInterval(() => {
          seal().catch((err: unknown) => deps.logger.warn({ err }, 'Sealing the audit head failed'));
        }, deps.sealEveryMs);
        timer.unref();
      }
    },

    append(entry) {
      return new Promise<AuditRecord>((resolve, reject) => {
        pending.push({ entry, resolve, reject });
        schedule();
      });
    },

    head: () => ({ ...head }),
    seal,

    async verify(options = {}) {
      const from = options.full ? null : verifiedSeal;
      const range = from ? { _id: { $gte: auditId(from.seq) } } : {};
      const found = await seals.find(range).sort({ _id: 1 }).toArray();
      // The last record known to exist: the head this instance wrote, or a later seal's.
      const end = Math.max(headKnown ? head.seq : 0, ...found.map((seal) => seal.seq));
      // FerretDB answers an `_id` range by scanning the whole collection, but an `_id` equality
      // from its index: a short increment is read record by record.
      const cursor =
        from && end - from.seq <= BY_ID_MAX ? null : records.find(range).sort({ _id: 1 }).batchSize(1_000);
      // The hashes walked, for the comparison with the Kafka copy.
      const stored = new Map<number, string>();
      let report: VerifyReport;
      try {
        report = await verifyChain(
          tap(cursor ?? byId(records, from?.seq ?? 1, end), stored),
          found,
          publicKeys,
          headKnown ? head : undefined,
          from ?? undefined,
        );
      } finally {
        await cursor?.close();
      }
      if (deps.readCopy) {
        // Every seal, so that one in the copy is not taken for missing from the store.
        const allSeals = from ? await seals.find({}).sort({ _id: 1 }).toArray() : found;
        report = await holdAgainstCopy(report, stored, allSeals, deps.readCopy);
      }
      const anchor = found.find((s) => s.seq === report.sealedSeq && s.seq <= report.lastSeq);
      if (!report.ok) verifiedSeal = null;
      else if (anchor) verifiedSeal = { seq: anchor.seq, hash: anchor.hash };
      return report;
    },

    async query(q) {
      // Every value below was validated by the route as a plain string, date or integer; the
      // operators are this code's own.
      const filter: Filter<AuditRecord> = {};
      if (q.subject) {
        filter['subject.view'] = q.subject.view;
        filter['subject.id'] = q.subject.id;
      }
      if (q.citizenId !== undefined) {
        // Both branches have an index that ends in `seq`, so MongoDB merges them in order.
        filter.$or = [
          { citizenIds: q.citizenId },
          { 'subject.id': q.citizenId, 'subject.view': 'citizens', citizenIds: { $exists: false } },
        ];
      }
      if (q.actorId !== undefined) filter['actor.id'] = q.actorId;
      if (q.agency !== undefined) filter['actor.agency'] = q.agency;
      if (q.dossierId !== undefined) filter.dossierId = q.dossierId;
      if (q.roles) filter['actor.role'] = { $in: [...q.roles] };
      if (q.from || q.to) filter.at = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lt: q.to } : {}) };
      if (q.before !== undefined) filter.seq = { $lt: q.before };
      const found = await records
        .find(filter)
        .sort({ seq: -1 })
        .limit(q.limit + 1)
        .toArray();
      const page = found.slice(0, q.limit);
      return { records: page, next: found.length > q.limit ? (page.at(-1)?.seq ?? null) : null };
    },

    async flows(from, to, period) {
      const counts = new Map<string, FlowRow>();
      const cursor = records
        .find(
          {
            at: { $gte: from, $lt: to },
            result: 'allowed',
            'actor.role': { $in: ['officer', AGENCY_SYSTEM_ROLE] },
          },
          { projection: { at: 1, 'actor.agency': 1, 'actor.role': 1, sources: 1 } },
        )
        .batchSize(1_000);
      for await (const record of cursor) {
        const bucket = periodOf(record.at, period);
        const reader = record.actor?.agency ?? 'unknown';
        for (const source of record.sources) {
          const key = `${bucket}|${reader}|${source}`;
          const row = counts.get(key) ?? {
            period: bucket,
            readerAgency: reader,
            sourceAgency: source,
            lookups: 0,
            deliveries: 0,
          };
          if (record.actor?.role === AGENCY_SYSTEM_ROLE) row.deliveries += 1;
          else row.lookups += 1;
          counts.set(key, row);
        }
      }
      return [...counts.values()].sort(
        (a, b) =>
          a.period.localeCompare(b.period) ||
          a.readerAgency.localeCompare(b.readerAgency) ||
          a.sourceAgency.localeCompare(b.sourceAgency),
      );
    },

    get: (seq) => records.findOne({ _id: auditId(seq) }),

    async range(fromSeq, toSeq) {
      const found: AuditRecord[] = [];
      for (let seq = fromSeq; seq <= toSeq; seq += 1) {
        const record = await records.findOne({ _id: auditId(seq) });
        if (record) found.push(record);
      }
      return found;
    },

    onStored(listener) {
      listeners.push(listener);
    },

    onSealed(listener) {
      sealListeners.push(listener);
    },

    sealsAfter: (seq) =>
      seals
        .find({ _id: { $gt: auditId(seq) } })
        .sort({ _id: 1 })
        .toArray(),

    async close() {
      clearInterval(timer);
      await flushing;
      await seal().catch((err: unknown) => deps.logger.warn({ err }, 'Sealing the audit head failed'));
    },
  };
}

/** Most records an incremental walk reads one by one, by `_id`; a longer one reads a range. */
const BY_ID_MAX = 5_000;

/**
 * The records from `fromSeq` on, in order, read by `_id`: a record missing before `end` is skipped
 * (the walk names the gap), and the first missing after `end` ends the walk.
 */
async function* byId(
  records: Collection<AuditRecord>,
  fromSeq: number,
  end: number,
): AsyncIterable<AuditRecord> {
  for (let seq = fromSeq; ; seq += 1) {
    const record = await records.findOne({ _id: auditId(seq) });
    if (record) yield record;
    else if (seq > end) return;
  }
}

/** The period `at` falls in, on Hà Nội's calendar: `2026-11-30T14`, `2026-11-30` or `2026-11`. */
export function periodOf(at: Date, period: FlowPeriod): string {
  const local = new Date(at.getTime() + HANOI_UTC_OFFSET_MS).toISOString();
  switch (period) {
    case 'hour':
      return local.slice(0, 13);
    case 'day':
      return local.slice(0, 10);
    case 'month':
      return local.slice(0, 7);
  }
}

import { createHash } from 'node:crypto';
import { type RecordIssue } from './agency';
import { type QuarantinedValue, type QuarantineResolution } from './quarantine';

/** Where a quarantined record sits in its topic. */
export interface QuarantineCoordinates {
  topic: string;
  partition: number;
  /** A 64-bit offset, as a decimal string. */
  offset: string;
}

/** Open until an accepted resend resolves it, or a refused resend supersedes it. */
export const QUARANTINE_STATES = { open: 'open', resent: 'resent', superseded: 'superseded' } as const;
export type QuarantineState = (typeof QUARANTINE_STATES)[keyof typeof QUARANTINE_STATES];

/** One refused record as its agency reads it. */
export interface QuarantinedRecord {
  /** Opaque and stable: derived from the record's coordinates, so it names nothing outside its topic. */
  id: string;
  /** The code of its first issue, which groups it. */
  code: string;
  state: QuarantineState;
  agency: string;
  source: 'http' | 'import';
  importId?: string;
  sourceRecordId?: string;
  receivedAt: string;
  /** The original record, as the agency sent it. */
  record: unknown;
  errors: RecordIssue[];
  /** The failing field paths, once each. */
  paths: string[];
  resolution?: QuarantineResolution;
  /** Sorts the records of one code in the order Kafka holds them. */
  partition: number;
  offset: string;
}

export interface QuarantineQuery {
  /** The agency whose records to list; undefined for an operator, who sees the connector's all. */
  agency: string | undefined;
  code?: string;
  /** `open` by default; `all` includes the resent and superseded records. */
  state?: 'open' | 'all';
  limit: number;
  /** The position after which the page starts, from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface QuarantinePage {
  /** Records matching the query, over all pages. */
  total: number;
  /** The page's records grouped by code, in code order, each group with its total over all pages. */
  groups: { code: string; total: number; records: QuarantinedRecord[] }[];
  nextCursor?: string;
}

/** A cursor that this index did not write. */
export class InvalidCursor extends Error {
  override name = 'InvalidCursor';
}

/** The id of the record at `coordinates`: the first 128 bits of a SHA-256, in hex. */
export function quarantineId(coordinates: QuarantineCoordinates): string {
  return createHash('sha256')
    .update(`${coordinates.topic}/${coordinates.partition}/${coordinates.offset}`)
    .digest('hex')
    .slice(0, 32);
}

interface Position {
  code: string;
  partition: number;
  offset: bigint;
}

const compare = (a: Position, b: Position): number =>
  a.code < b.code
    ? -1
    : a.code > b.code
      ? 1
      : a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0);

const positionOf = (r: QuarantinedRecord): Position => ({
  code: r.code,
  partition: r.partition,
  offset: BigInt(r.offset),
});

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.code, p.partition, p.offset.toString()]), 'utf8').toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): Position {
  try {
    const [code, partition, offset] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (typeof code === 'string' && Number.isInteger(partition) && typeof offset === 'string') {
      return { code, partition: partition as number, offset: BigInt(offset) };
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw new InvalidCursor('The cursor is not one this service gave');
}

/**
 * The quarantine of one connector's topic, in memory, as the agency reads it: every refusal the
 * topic holds (it keeps them 30 days), and the resolutions written after them. Pure: a consumer
 * of the topic feeds it ({@link followQuarantine}), and so does the connector the moment Kafka
 * acknowledges a refusal, so that an agency reads its own refusals at once.
 *
 * It holds at most `maxRecords`: past that the oldest are forgotten here (they stay in the topic
 * until retention). Adding one record twice (from the connector and then from the consumer) is
 * harmless: the id is derived from the coordinates.
 */
export function createQuarantineIndex(options: { maxRecords: number }) {
  const records = new Map<string, QuarantinedRecord>();
  // Resolutions read before the record they resolve (the connector adds both out of order at start).
  const early = new Map<string, QuarantineResolution>();

  return {
    /** Takes in a refusal read at `coordinates`. */
    add(coordinates: QuarantineCoordinates, value: QuarantinedValue): void {
      const id = quarantineId(coordinates);
      if (records.has(id)) return;
      const resolution = early.get(id);
      early.delete(id);
      records.set(id, {
        id,
        code: value.issues[0]?.code ?? 'VALIDATION_FAILED',
        state: resolution?.state ?? QUARANTINE_STATES.open,
        agency: value.agency,
        source: value.source,
        ...(value.importId === undefined ? {} : { importId: value.importId }),
        ...(value.sourceRecordId === undefined ? {} : { sourceRecordId: value.sourceRecordId }),
        receivedAt: value.receivedAt,
        record: value.record,
        errors: value.issues,
        paths: [...new Set(value.issues.map((i) => i.path))],
        ...(resolution ? { resolution } : {}),
        partition: coordinates.partition,
        offset: coordinates.offset,
      });
      // Maps iterate in insertion order: the first key is the oldest.
      while (records.size > options.maxRecords) {
        const oldest = records.keys().next().value as string;
        records.delete(oldest);
      }
    },

    /** Takes in a resolution; the newest wins. */
    resolve(resolution: QuarantineResolution): void {
      const record = records.get(resolution.id);
      if (!record) {
        early.set(resolution.id, resolution);
        return;
      }
      record.state = resolution.state;
      record.resolution = resolution;
    },

    /** The record with this id, if `agency` (undefined: an operator) may see it. */
    get(id: string, agency: string | undefined): QuarantinedRecord | undefined {
      const record = records.get(id);
      return record && (agency === undefined || record.agency === agency) ? record : undefined;
    },

    /**
     * One page of `query`, ordered by code, then by position in the topic: a cursor stays valid
     * while records arrive, since new ones sort after the old ones of their code.
     *
     * @throws InvalidCursor when the cursor was not written by this index
     */
    list(query: QuarantineQuery): QuarantinePage {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const matching = [...records.values()].filter(
        (r) =>
          (query.agency === undefined || r.agency === query.agency) &&
          (query.code === undefined || r.code === query.code) &&
          (query.state === 'all' || r.state === QUARANTINE_STATES.open),
      );
      const totals = new Map<string, number>();
      for (const r of matching) totals.set(r.code, (totals.get(r.code) ?? 0) + 1);
      const ordered = matching
        .map((r) => ({ r, p: positionOf(r) }))
        .filter(({ p }) => after === undefined || compare(p, after) > 0)
        .sort((a, b) => compare(a.p, b.p));
      const page = ordered.slice(0, query.limit);
      const groups: QuarantinePage['groups'] = [];
      for (const { r } of page) {
        const last = groups[groups.length - 1];
        if (last?.code === r.code) last.records.push(r);
        else groups.push({ code: r.code, total: totals.get(r.code) ?? 0, records: [r] });
      }
      const lastOfPage = page[page.length - 1];
      return {
        total: matching.length,
        groups,
        ...(ordered.length > page.length && lastOfPage ? { nextCursor: encodeCursor(lastOfPage.p) } : {}),
      };
    },

    size(): number {
      return records.size;
    },
  };
}

export type QuarantineIndex = ReturnType<typeof createQuarantineIndex>;

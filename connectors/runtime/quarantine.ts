import { ERROR_CODES } from '../../services/platform/errors';
import { type RedriveLogEntry, redriveLogRecord } from '../../services/platform/redrive-log';
import { type TopicDeclaration } from '../../services/platform/topic-policy';
import { type RecordIssue } from './agency';
import { type Publisher, type PublishedRecord } from './publisher';

/** The topic where the records refused for `topic` wait for their agency: `<topic>.quarantine`. */
export function quarantineTopicFor(topic: string): string {
  return `${topic}.quarantine`;
}

/**
 * A quarantine topic as the topic policy declares it: deleted after 30 days rather than compacted,
 * since one source record may be refused several times, for different reasons, and every refusal
 * is worth reading. One partition is plenty: refusals are rare next to accepted records, and keep
 * their order per agency.
 */
export function quarantineTopicDeclaration(topic: string, numPartitions = 1): TopicDeclaration {
  return { topic: quarantineTopicFor(topic), kind: 'quarantine', numPartitions };
}

/** Kafka header names on every quarantined record. */
export const QUARANTINE_HEADERS = {
  /** The code of the first issue, so a consumer can route without parsing the value. */
  errorCode: 'lienthong-error-code',
  contentType: 'content-type',
  /** On a resolution, the id of the refusal it resolves; a refusal has no such header. */
  resolves: 'lienthong-quarantine-resolves',
} as const;

/**
 * Each connector reads its quarantine topic in a group of its own, named by this prefix and its
 * principal, never committed: it reads the whole topic at every start (the ACLs grant the prefix).
 */
export const QUARANTINE_GROUP_PREFIX = 'lienthong-quarantine-';

/** What became of a refused record that its agency resent; written after it on its topic. */
export interface QuarantineResolution {
  /** The quarantine id of the refusal it resolves. */
  id: string;
  /** `resent`: the corrected record was accepted; `superseded`: it was refused and quarantined again. */
  state: 'resent' | 'superseded';
  /** ISO 8601, UTC. */
  at: string;
  /** The API client that resent it. */
  by: string;
  /** The event the accepted record became. */
  eventId?: string;
}

/** A refused record and why. */
export interface QuarantineEntry {
  /** The agency that sent it. */
  agency: string;
  source: 'http' | 'import';
  /** The import it came in, when `source` is `import`. */
  importId?: string;
  /** The record's id in the agency's system, when it could be read; part of the key. */
  sourceRecordId?: string;
  /** The original value: the JSON record as posted, or the CSV row as read. */
  record: unknown;
  issues: readonly RecordIssue[];
  /** When lienthong received it, in epoch milliseconds. */
  receivedAt: number;
}

/** The JSON value written to the quarantine topic. */
export interface QuarantinedValue {
  agency: string;
  source: 'http' | 'import';
  importId?: string;
  sourceRecordId?: string;
  /** The topic the record was meant for. */
  topic: string;
  record: unknown;
  issues: RecordIssue[];
  /** ISO 8601, UTC. */
  receivedAt: string;
}

export interface Quarantine {
  /** Resolves with where the refusal was written, once Kafka acknowledged it. */
  quarantine(entry: QuarantineEntry): Promise<PublishedRecord>;
  /**
   * Writes a resolution after the refusal it resolves, and the resend to the redrive log, in one
   * batch; resolves once Kafka acknowledged both.
   */
  resolve(resolution: QuarantineResolution, log: RedriveLogEntry): Promise<void>;
}

/** A quarantine topic's message, read back: a refusal, a resolution, or neither (not ours). */
export function readQuarantineMessage(message: {
  value: Buffer | null;
  headers?: Record<string, unknown>;
}): { refusal: QuarantinedValue } | { resolution: QuarantineResolution } | undefined {
  if (!message.value) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (message.headers?.[QUARANTINE_HEADERS.resolves] !== undefined) {
    const r = value as Partial<QuarantineResolution>;
    return typeof r.id === 'string' && (r.state === 'resent' || r.state === 'superseded')
      ? { resolution: value as QuarantineResolution }
      : undefined;
  }
  const q = value as Partial<QuarantinedValue>;
  return typeof q.agency === 'string' && Array.isArray(q.issues) && typeof q.receivedAt === 'string'
    ? { refusal: value as QuarantinedValue }
    : undefined;
}

/**
 * Writes refused records to `<topic>.quarantine`, as JSON, so the agency (and an operator) can
 * see exactly what was refused and why, fix it and resend it. It goes through the same publisher
 * as accepted records: a refusal is answered only once Kafka has it.
 *
 * The key is the agency and, when known, the source record id (`HN-CUCTHUE/DKT-2024-155302`), so
 * the refusals of one record stay in order. The topic must exist: see {@link quarantineTopicDeclaration}.
 */
export function createQuarantine(options: {
  publisher: Pick<Publisher, 'publish'>;
  topic: string;
  /** Where resends are recorded. */
  redriveLogTopic?: string;
  /** Told of every refusal and resolution once Kafka acknowledged it: the agency's index. */
  written?: {
    refusal(where: PublishedRecord, value: QuarantinedValue): void;
    resolution(resolution: QuarantineResolution): void;
  };
}): Quarantine {
  const { publisher, topic } = options;
  const quarantineTopic = quarantineTopicFor(topic);

  return {
    async quarantine(entry) {
      const value: QuarantinedValue = {
        agency: entry.agency,
        source: entry.source,
        ...(entry.importId === undefined ? {} : { importId: entry.importId }),
        ...(entry.sourceRecordId === undefined ? {} : { sourceRecordId: entry.sourceRecordId }),
        topic,
        record: entry.record,
        issues: [...entry.issues],
        receivedAt: new Date(entry.receivedAt).toISOString(),
      };
      const [published] = await publisher.publish([
        {
          topic: quarantineTopic,
          key: entry.sourceRecordId === undefined ? entry.agency : `${entry.agency}/${entry.sourceRecordId}`,
          value: Buffer.from(JSON.stringify(value), 'utf8'),
          headers: {
            [QUARANTINE_HEADERS.errorCode]: entry.issues[0]?.code ?? ERROR_CODES.VALIDATION_FAILED,
            [QUARANTINE_HEADERS.contentType]: 'application/json',
          },
        },
      ]);
      if (published === undefined) throw new Error('The publisher answered no record');
      options.written?.refusal(published, value);
      return published;
    },

    async resolve(resolution, log) {
      if (options.redriveLogTopic === undefined) throw new Error('No redrive log topic was given');
      await publisher.publish([
        {
          topic: quarantineTopic,
          key: log.agency,
          value: Buffer.from(JSON.stringify(resolution), 'utf8'),
          headers: {
            [QUARANTINE_HEADERS.resolves]: resolution.id,
            [QUARANTINE_HEADERS.contentType]: 'application/json',
          },
        },
        redriveLogRecord(options.redriveLogTopic, log),
      ]);
      options.written?.resolution(resolution);
    },
  };
}

import { ERROR_CODES } from '../../services/platform/errors';
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
} as const;

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
      return published;
    },
  };
}

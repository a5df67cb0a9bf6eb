import { randomUUID } from 'node:crypto';
import { type IHeaders, type Kafka, type KafkaMessage } from 'kafkajs';
import { type Clock } from '../platform/clock';
import { ACKS_ALL, type RenewingProducer } from '../platform/kafka';
import {
  REDRIVE_ACTIONS,
  REDRIVE_OUTCOMES,
  type RedriveLogEntry,
  redriveLogRecord,
} from '../platform/redrive-log';
import { DEAD_LETTER_HEADERS } from './dead-letters';

/**
 * Headers a redriven record carries, and which the sharing service copies into its next dead
 * letter with the record's own: that is how the loop guard counts across redrives.
 */
export const REDRIVE_HEADERS = {
  /** How many times the record was redriven, counting this time. */
  attempt: 'lienthong-redrive-attempt',
  /** JSON: the earlier failures ({ code, reason, failedAt }), oldest first. */
  history: 'lienthong-redrive-history',
} as const;

/** A dead letter that failed this many times stays put: three by default. */
export const DEFAULT_MAX_FAILURES = 3;

/** The operators' short-lived groups that read the dead letters and the redrive log. */
export const DLQ_GROUP_PREFIX = 'lienthong-dlq-';

/** One earlier failure of a record, as the loop guard keeps it. */
export interface FailureRecord {
  code: string;
  reason: string;
  failedAt: string;
}

/** A dead letter as the operators' tool reads it. */
export interface DeadLetterView {
  /** Where the dead letter sits in the dead-letter topic. */
  at: { topic: string; partition: number; offset: string };
  /** Where the original record was read. */
  source: { topic: string; partition: number; offset: string };
  /** The agency owning the source topic, when known. */
  agency: string | undefined;
  code: string;
  reason: string;
  failedAt: string;
  /** Failures so far, this one included: 1 + the redrives it went through. */
  failures: number;
  /** Every failure, oldest first, this one last. */
  history: FailureRecord[];
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface DeadLetterFilter {
  agency?: string;
  code?: string;
  /** Epoch milliseconds, inclusive: when the dead letter was written. */
  since?: number;
  /** Epoch milliseconds, exclusive. */
  until?: number;
}

const text = (value: unknown): string | undefined =>
  value === undefined || value === null
    ? undefined
    : Buffer.isBuffer(value)
      ? value.toString('utf8')
      : String(value);

function parseHistory(raw: string | undefined): FailureRecord[] {
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? (parsed as FailureRecord[]) : [];
  } catch {
    return [];
  }
}

/** Reads a dead letter's headers: pure, for the tool and its unit tests. */
export function viewDeadLetter(
  at: { topic: string; partition: number },
  message: Pick<KafkaMessage, 'offset' | 'key' | 'value' | 'headers'>,
  agencyOf: (topic: string) => string | undefined,
): DeadLetterView {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const t = text(Array.isArray(value) ? value[0] : value);
    if (t !== undefined) headers[name] = t;
  }
  const topic = headers[DEAD_LETTER_HEADERS.topic] ?? '';
  const code = headers[DEAD_LETTER_HEADERS.errorCode] ?? 'UNKNOWN';
  const reason = headers[DEAD_LETTER_HEADERS.reason] ?? '';
  const failedAt = headers[DEAD_LETTER_HEADERS.failedAt] ?? '';
  const attempt = Number(headers[REDRIVE_HEADERS.attempt] ?? '0');
  return {
    at: { ...at, offset: message.offset },
    source: {
      topic,
      partition: Number(headers[DEAD_LETTER_HEADERS.partition] ?? '-1'),
      offset: headers[DEAD_LETTER_HEADERS.offset] ?? '',
    },
    agency: agencyOf(topic),
    code,
    reason,
    failedAt,
    failures: (Number.isInteger(attempt) && attempt > 0 ? attempt : 0) + 1,
    history: [...parseHistory(headers[REDRIVE_HEADERS.history]), { code, reason, failedAt }],
    key: message.key,
    value: message.value,
    headers,
  };
}

export function matchesFilter(letter: DeadLetterView, filter: DeadLetterFilter): boolean {
  const failedAt = Date.parse(letter.failedAt);
  return (
    (filter.agency === undefined || letter.agency === filter.agency) &&
    (filter.code === undefined || letter.code === filter.code) &&
    (filter.since === undefined || failedAt >= filter.since) &&
    (filter.until === undefined || failedAt < filter.until)
  );
}

/** The coordinates of a dead letter as one string: the redrive log's key for "done". */
export const deadLetterKey = (at: DeadLetterView['at']): string => `${at.topic}/${at.partition}/${at.offset}`;

/** What a redrive does with one dead letter. */
export type RedriveStep =
  | { letter: DeadLetterView; action: 'republish'; attempt: number }
  | { letter: DeadLetterView; action: 'hold' };

/**
 * Which dead letters to send back, pure: those not redriven yet (by the log), each republished
 * unless it has failed `maxFailures` times, in which case it stays in the dead-letter topic.
 */
export function planRedrive(
  letters: readonly DeadLetterView[],
  options: { maxFailures: number; done: ReadonlySet<string> },
): RedriveStep[] {
  return letters
    .filter((l) => !options.done.has(deadLetterKey(l.at)))
    .map((letter) =>
      letter.failures >= options.maxFailures
        ? { letter, action: 'hold' as const }
        : { letter, action: 'republish' as const, attempt: letter.failures },
    );
}

/**
 * The record a redrive writes: the original key and bytes, to the original topic and partition, with the
 * original headers (its `traceparent`...) but not the dead-letter ones, plus the attempt count
 * and the failures so far. Pure.
 */
export function republishedRecord(
  letter: DeadLetterView,
  attempt: number,
): { key: Buffer | null; value: Buffer | null; partition: number; headers: IHeaders } {
  const headers: IHeaders = {};
  const own = new Set<string>([...Object.values(DEAD_LETTER_HEADERS), ...Object.values(REDRIVE_HEADERS)]);
  for (const [name, value] of Object.entries(letter.headers)) if (!own.has(name)) headers[name] = value;
  headers[REDRIVE_HEADERS.attempt] = String(attempt);
  headers[REDRIVE_HEADERS.history] = JSON.stringify(
    letter.history.map((h) => ({ ...h, reason: h.reason.slice(0, 300) })),
  );
  // Its own partition again: the one its key chose, behind the entity's earlier events.
  return { key: letter.key, value: letter.value, partition: letter.source.partition, headers };
}

/**
 * Reads every message `topic` holds now, partition by partition, in a short-lived group of its own
 * (deleted afterwards), and resolves once each partition's end as of the call was reached.
 */
export async function readWholeTopic(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  groupPrefix: string = DLQ_GROUP_PREFIX,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${groupPrefix}${randomUUID()}`;
  try {
    const remaining = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high));
    }
    if (remaining.size === 0) return;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = remaining.get(batch.partition);
              if (end === undefined) return;
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= end) break;
                onMessage(batch.partition, message);
              }
              if (BigInt(batch.lastOffset()) + 1n >= end) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** The dead letters `topic` holds now, oldest first. */
export async function readDeadLetters(
  kafka: Kafka,
  topic: string,
  agencyOf: (topic: string) => string | undefined,
): Promise<DeadLetterView[]> {
  const letters: DeadLetterView[] = [];
  await readWholeTopic(kafka, topic, (partition, message) =>
    letters.push(viewDeadLetter({ topic, partition }, message, agencyOf)),
  );
  return letters;
}

/** The dead letters of `deadLetterTopic` that the redrive log shows as redriven or held already. */
export async function readRedriven(
  kafka: Kafka,
  logTopic: string,
  deadLetterTopic: string,
): Promise<Set<string>> {
  const done = new Set<string>();
  await readWholeTopic(kafka, logTopic, (_partition, message) => {
    try {
      const entry = JSON.parse(message.value?.toString('utf8') ?? '') as RedriveLogEntry;
      if (entry.action === REDRIVE_ACTIONS.redrive && 'deadLetter' in entry.subject) {
        const at = entry.subject.deadLetter;
        if (at.topic === deadLetterTopic) done.add(deadLetterKey(at));
      }
    } catch {
      // Not an entry of ours: nothing to learn from it.
    }
  });
  return done;
}

export interface RedriveReport {
  republished: number;
  held: number;
  /** Seconds from the first send to the last acknowledgement. */
  seconds: number;
  /** Records republished per second over `seconds`. */
  perSecond: number;
}

/**
 * Carries out a plan, `batchSize` steps per send: each batch writes its republished records and
 * their redrive log entries (and a log entry per held dead letter) in one `sendBatch`, acks=all,
 * so that a step is logged as done only with its record written. A crash between batches repeats
 * at most one batch at the next run: the records' `eventId`s make the copy a no-op in the views.
 */
export async function executeRedrive(options: {
  producer: Pick<RenewingProducer, 'sendBatch'>;
  plan: readonly RedriveStep[];
  logTopic: string;
  /** Who runs it, for the log. */
  operator: string;
  clock: Clock;
  batchSize?: number;
  progress?: (done: number, total: number, elapsedMs: number) => void;
}): Promise<RedriveReport> {
  const { plan, clock } = options;
  const batchSize = options.batchSize ?? 500;
  const report: RedriveReport = { republished: 0, held: 0, seconds: 0, perSecond: 0 };
  const started = process.hrtime.bigint();
  for (let i = 0; i < plan.length; i += batchSize) {
    const steps = plan.slice(i, i + batchSize);
    const at = new Date(clock()).toISOString();
    const byTopic = new Map<string, ReturnType<typeof republishedRecord>[]>();
    const log: RedriveLogEntry[] = [];
    for (const step of steps) {
      const { letter } = step;
      const entry: RedriveLogEntry = {
        action: REDRIVE_ACTIONS.redrive,
        at,
        actor: { kind: 'operator', id: options.operator },
        agency: letter.agency ?? 'unknown',
        subject: { deadLetter: letter.at },
        outcome: step.action === 'hold' ? REDRIVE_OUTCOMES.held : REDRIVE_OUTCOMES.republished,
        attempt: step.action === 'hold' ? letter.failures : step.attempt,
        history: letter.history.map((h) => ({ code: h.code, failedAt: h.failedAt })),
      };
      if (step.action === 'republish') {
        const records = byTopic.get(letter.source.topic) ?? [];
        records.push(republishedRecord(letter, step.attempt));
        byTopic.set(letter.source.topic, records);
        entry.target = { topic: letter.source.topic };
      }
      log.push(entry);
    }
    // The log's one partition (`redriveLogTopicDeclaration`).
    const logRecords = log.map((e) => ({ ...redriveLogRecord(options.logTopic, e), partition: 0 }));
    await options.producer.sendBatch({
      acks: ACKS_ALL,
      topicMessages: [
        ...[...byTopic].map(([topic, messages]) => ({ topic, messages })),
        { topic: options.logTopic, messages: logRecords },
      ],
    });
    for (const step of steps) {
      if (step.action === 'hold') report.held += 1;
      else report.republished += 1;
    }
    options.progress?.(i + steps.length, plan.length, Number(process.hrtime.bigint() - started) / 1e6);
  }
  report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  report.perSecond = report.seconds > 0 ? report.republished / report.seconds : 0;
  return report;
}

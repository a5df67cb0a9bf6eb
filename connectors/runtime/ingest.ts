import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../../services/platform/clock';
import { ValidationError } from '../../services/platform/errors';
import { type AgencyDefinition, type RecordIssue } from './agency';

/** How one submitted record ended. `index` is its place in the batch or its row in the file. */
export type RecordOutcome =
  | { index: number; status: 'accepted'; eventId: string; topic: string; partition: number; offset: string }
  | { index: number; status: 'rejected'; errors: RecordIssue[] };

export interface Submission {
  source: 'http' | 'import';
  importId?: string;
  /** The `traceparent` the events carry. */
  traceparent: string;
  receivedAt: number;
}

/** The parts of the Kafka side the pipeline needs; see publisher.ts, avro-encoder.ts, quarantine.ts. */
export interface IngestPorts {
  encode(event: unknown): Buffer;
  publish(
    records: { topic: string; key: string; value: Buffer; headers?: Record<string, string> }[],
  ): Promise<{ topic: string; partition: number; offset: string }[]>;
  quarantine(entry: {
    agency: string;
    source: 'http' | 'import';
    importId?: string;
    record: unknown;
    issues: RecordIssue[];
    receivedAt: number;
  }): Promise<unknown>;
}

/**
 * The one path every record takes, whether it came in a POST or a file: check it against the
 * agency's native schema, map it to its canonical event, encode it, and publish it with acks=all;
 * or, refused, quarantine it with its reasons. Resolves only once Kafka has acknowledged every
 * accepted record and every quarantined one; rejects (retriably) when Kafka is unavailable.
 */
export function createIngest(options: {
  definition: AgencyDefinition;
  /** The topic accepted records go to: the contract's, unless a test gives its own. */
  topic: string;
  ports: IngestPorts;
  logger: Logger;
  /** The `now` of the mappings' date checks; the system clock by default. */
  clock?: Clock;
}) {
  const { definition, ports } = options;
  const clock = options.clock ?? systemClock;
  // The happy path stops at a record's first error; a record that fails is checked again by the
  // second, for every error, so that its answer names them all.
  const validate: ValidateFunction = new Ajv({ allErrors: false, strict: false }).compile(
    definition.nativeSchema,
  );
  const explain: ValidateFunction = new Ajv({ allErrors: true, strict: false }).compile(
    definition.nativeSchema,
  );

  const check = (
    record: unknown,
  ): { ok: true; key: string; eventId: string; value: Buffer } | { ok: false; issues: RecordIssue[] } => {
    if (!validate(record)) {
      explain(record);
      // An `if` error only says that a `then` branch failed; that branch's own errors say why.
      const errors = (explain.errors ?? []).filter((e) => e.keyword !== 'if');
      return { ok: false, issues: errors.map(schemaIssue) };
    }
    const mapped = definition.map(record, { now: clock() });
    if (!mapped.ok) return mapped;
    try {
      return {
        ok: true,
        key: mapped.value.key,
        eventId: mapped.value.event.eventId,
        value: ports.encode(mapped.value.event),
      };
    } catch (error) {
      // The mapping produced something the contract refuses: a defect here, but still this record's answer.
      if (error instanceof ValidationError) {
        return {
          ok: false,
          issues: error.issues.map((i) => ({
            path: `$event.${i.path}`,
            code: 'CONTRACT_VIOLATION',
            message: i.message,
          })),
        };
      }
      throw error;
    }
  };

  return {
    /** Quarantines a record refused before it could be checked: an unreadable row of a file. */
    async refuse(record: unknown, issues: RecordIssue[], submission: Submission): Promise<void> {
      await ports.quarantine({
        agency: definition.agency,
        source: submission.source,
        ...(submission.importId ? { importId: submission.importId } : {}),
        record,
        issues,
        receivedAt: submission.receivedAt,
      });
    },

    async ingest(
      records: readonly unknown[],
      submission: Submission,
      firstIndex = 0,
    ): Promise<RecordOutcome[]> {
      const outcomes: RecordOutcome[] = new Array(records.length);
      const accepted: { at: number; eventId: string; key: string; value: Buffer }[] = [];
      const refused: Promise<unknown>[] = [];
      records.forEach((record, i) => {
        const index = firstIndex + i;
        const result = check(record);
        if (result.ok) {
          accepted.push({ at: i, eventId: result.eventId, key: result.key, value: result.value });
          return;
        }
        outcomes[i] = { index, status: 'rejected', errors: result.issues };
        refused.push(
          ports.quarantine({
            agency: definition.agency,
            source: submission.source,
            ...(submission.importId ? { importId: submission.importId } : {}),
            record,
            issues: result.issues,
            receivedAt: submission.receivedAt,
          }),
        );
      });
      const headers = { traceparent: submission.traceparent };
      const [published] = await Promise.all([
        accepted.length === 0
          ? Promise.resolve([])
          : ports.publish(
              accepted.map((a) => ({ topic: options.topic, key: a.key, value: a.value, headers })),
            ),
        Promise.all(refused),
      ]);
      accepted.forEach((a, j) => {
        const where = published[j];
        if (!where) throw new Error('The publisher answered fewer records than it was given');
        outcomes[a.at] = { index: firstIndex + a.at, status: 'accepted', eventId: a.eventId, ...where };
      });
      return outcomes;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;

/** Ajv's error as the agency reads it: a JSON path into its record and a stable code. */
function schemaIssue(error: ErrorObject): RecordIssue {
  const base = `$${error.instancePath.replace(/\/([^/]+)/g, (_m, part: string) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))}`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(error.params.additionalProperty);
      return { path: `${base}.${field}`, code: 'UNKNOWN_FIELD', message: `Unknown field ${field}` };
    }
    case 'required': {
      const field = String(error.params.missingProperty);
      return { path: `${base}.${field}`, code: 'REQUIRED', message: `${field} is required` };
    }
    case 'type':
      return { path: base, code: 'WRONG_TYPE', message: `Must be ${String(error.params.type)}` };
    case 'enum':
    case 'const':
      return { path: base, code: 'NOT_ALLOWED', message: error.message ?? 'Is not an allowed value' };
    case 'maxLength':
    case 'minLength':
    case 'maximum':
    case 'minimum':
    case 'maxItems':
    case 'minItems':
      return { path: base, code: 'OUT_OF_RANGE', message: error.message ?? 'Is out of range' };
    default:
      return { path: base, code: 'INVALID_FORMAT', message: error.message ?? 'Is invalid' };
  }
}

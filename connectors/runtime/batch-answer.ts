import { type FastifyReply } from 'fastify';
import { sendProblem } from '../../services/platform/http';
import { type RecordOutcome } from './ingest';

/** A refused record's reasons: JSON paths into the record, stable codes and messages. */
export const RECORD_ERRORS = {
  type: 'array',
  items: {
    type: 'object',
    properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
  },
} as const;

const OUTCOME = {
  type: 'object',
  properties: {
    index: { type: 'integer' },
    status: { type: 'string', enum: ['accepted', 'rejected'] },
    eventId: { type: 'string' },
    topic: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    errors: RECORD_ERRORS,
  },
} as const;

const BATCH_ANSWER = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    records: { type: 'array', items: OUTCOME },
  },
} as const;

/** The 2xx answers of every route that takes records: `POST /v1/records` and a quarantine resend. */
export const BATCH_RESPONSES = {
  200: { ...BATCH_ANSWER, description: 'Every record was accepted' },
  207: { ...BATCH_ANSWER, description: 'Some records were accepted, the others rejected' },
} as const;

/**
 * Answers a batch's outcomes, one way for every route that takes records: 200 when every record
 * was accepted, 207 when some were, and a 422 problem listing the paths as `$[i]…` when none was.
 */
export function sendOutcomes(reply: FastifyReply, outcomes: readonly RecordOutcome[]): FastifyReply {
  const accepted = outcomes.filter((o) => o.status === 'accepted').length;
  const rejected = outcomes.length - accepted;
  if (accepted === 0) {
    return sendProblem(reply, {
      status: 422,
      title: 'Every record was rejected',
      code: 'RECORDS_REJECTED',
      detail: `${rejected} of ${outcomes.length} records were rejected and quarantined`,
      errors: rejectedIssues(outcomes),
      accepted,
      rejected,
      records: outcomes,
    });
  }
  return reply.code(rejected === 0 ? 200 : 207).send({ accepted, rejected, records: outcomes });
}

/** Every rejected record's issues, with paths from the batch's root: `$[3].mst`. */
function rejectedIssues(
  outcomes: readonly RecordOutcome[],
): { path: string; code: string; message: string }[] {
  return outcomes.flatMap((o) =>
    o.status === 'rejected' ? o.errors.map((e) => ({ ...e, path: `$[${o.index}]${e.path.slice(1)}` })) : [],
  );
}

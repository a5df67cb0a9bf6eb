import { type FastifyInstance, type FastifyReply } from 'fastify';
import { type Clock } from '../../services/platform/clock';
import { type Principal } from '../../services/platform/credentials';
import { sendProblem } from '../../services/platform/http';
import { problemResponses } from '../../services/platform/problem';
import { REDRIVE_ACTIONS, REDRIVE_OUTCOMES } from '../../services/platform/redrive-log';
import { inSpan } from '../../services/platform/trace-context';
import { type AgencyDefinition } from './agency';
import { BATCH_RESPONSES, RECORD_ERRORS, sendOutcomes } from './batch-answer';
import { type Ingest } from './ingest';
import { type Quarantine } from './quarantine';
import { type QuarantineFollower } from './quarantine-follower';
import { InvalidCursor, type QuarantineIndex } from './quarantine-index';

/** The quarantine's parts the routes use: the index, the follower that fills it, the writer. */
export interface QuarantineDesk {
  index: QuarantineIndex;
  follower: Pick<QuarantineFollower, 'caughtUp'>;
  writer: Pick<Quarantine, 'resolve'>;
}

/** Most records on one page of `GET /v1/quarantine`, and how many when `limit` is not given. */
export const QUARANTINE_PAGE_MAX = 500;
const QUARANTINE_PAGE_DEFAULT = 50;

const QUARANTINED_RECORD = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    code: { type: 'string' },
    state: { type: 'string', enum: ['open', 'resent', 'superseded'] },
    source: { type: 'string', enum: ['http', 'import'] },
    importId: { type: 'string' },
    sourceRecordId: { type: 'string' },
    receivedAt: { type: 'string', format: 'date-time' },
    record: { description: 'The record exactly as the agency sent it (a CSV row as read)' },
    errors: RECORD_ERRORS,
    paths: { type: 'array', items: { type: 'string' }, description: 'The failing field paths, once each' },
    resolution: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['resent', 'superseded'] },
        at: { type: 'string', format: 'date-time' },
        by: { type: 'string' },
        eventId: { type: 'string' },
      },
    },
  },
} as const;

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
} as const;

/**
 * `GET /v1/quarantine`, `GET /v1/quarantine/{id}` and `POST /v1/quarantine/{id}/resend`: the
 * agency's own refused records, and their way back. An agency sees only records it sent; any other
 * id is 404, the same as an id that never existed, so that ids reveal nothing. An operator sees the
 * connector's all. A resend goes through the same path as `POST /v1/records` and answers alike; it
 * is then recorded after the refusal (its resolution) and on the redrive log, before the answer.
 */
export function registerQuarantineRoutes(
  app: FastifyInstance,
  deps: { definition: AgencyDefinition; ingest: Ingest; desk: QuarantineDesk; clock: Clock },
): void {
  const { definition, ingest, desk } = deps;

  /** 503 while the index has not read what the topic held at start; true when it may answer. */
  const loaded = async (reply: FastifyReply): Promise<boolean> => {
    if (await desk.follower.caughtUp()) return true;
    reply.header('retry-after', '5');
    await sendProblem(reply, {
      status: 503,
      title: 'The quarantine is loading',
      code: 'QUARANTINE_LOADING',
      detail: 'The connector is still reading its quarantine topic; try again in a moment',
    });
    return false;
  };
  const notFound = (reply: FastifyReply, id: string) =>
    sendProblem(reply, {
      status: 404,
      title: 'Quarantined record not found',
      code: 'QUARANTINE_NOT_FOUND',
      detail: `No quarantined record ${id}`,
      errors: [{ path: '$.id', message: 'is not a quarantined record of yours' }],
    });

  app.get<{ Querystring: { code?: string; state?: 'open' | 'all'; limit?: string; cursor?: string } }>(
    '/v1/quarantine',
    {
      schema: {
        summary: "The agency's refused records, grouped by error code, a page at a time",
        tags: ['quarantine'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$', description: 'Only this error code' },
            state: {
              type: 'string',
              enum: ['open', 'all'],
              default: 'open',
              description: '`open` (default): not resent yet; `all`: resent and superseded ones too',
            },
            // A string: the connectors take bodies, so their schemas do not coerce types (see createHttpServer).
            limit: {
              type: 'string',
              pattern: '^([1-9]|[1-9][0-9]|[1-4][0-9]{2}|500)$',
              description: `Records per page, 1 to ${QUARANTINE_PAGE_MAX}; ${QUARANTINE_PAGE_DEFAULT} by default`,
            },
            cursor: { type: 'string', maxLength: 512, description: "A previous page's `nextCursor`" },
          },
        },
        response: {
          200: {
            type: 'object',
            description: "One page, ordered by code then by arrival; each group's `total` counts every page",
            properties: {
              total: { type: 'integer' },
              groups: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    code: { type: 'string' },
                    total: { type: 'integer' },
                    records: { type: 'array', items: QUARANTINED_RECORD },
                  },
                },
              },
              nextCursor: { type: 'string', description: 'Absent on the last page' },
            },
          },
          ...problemResponses([404], { 404: 'No route' }),
        },
      },
    },
    async (request, reply) => {
      if (!(await loaded(reply))) return reply;
      try {
        const { limit, ...query } = request.query;
        return desk.index.list({
          ...query,
          agency: agencyOf(request.agencyPrincipal),
          limit: limit === undefined ? QUARANTINE_PAGE_DEFAULT : Number(limit),
        });
      } catch (error) {
        if (!(error instanceof InvalidCursor)) throw error;
        return sendProblem(reply, {
          status: 400,
          title: 'Invalid cursor',
          code: 'INVALID_CURSOR',
          detail: error.message,
          errors: [{ path: '$.cursor', message: 'is not a nextCursor this service gave' }],
        });
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/quarantine/:id',
    {
      schema: {
        summary: 'One refused record, with the original record and the failing paths',
        tags: ['quarantine'],
        params: ID_PARAMS,
        response: {
          200: QUARANTINED_RECORD,
          ...problemResponses([404], { 404: 'No quarantined record of yours has this id' }),
        },
      },
    },
    async (request, reply) => {
      if (!(await loaded(reply))) return reply;
      const record = desk.index.get(request.params.id, agencyOf(request.agencyPrincipal));
      return record ?? notFound(reply, request.params.id);
    },
  );

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/v1/quarantine/:id/resend',
    {
      schema: {
        summary: 'Send a corrected record in place of a refused one; answered as `POST /v1/records`',
        tags: ['quarantine'],
        params: ID_PARAMS,
        // One native record: checked by the same path as a record of `POST /v1/records`.
        body: { type: 'object' },
        response: {
          ...BATCH_RESPONSES,
          ...problemResponses([404, 415, 422], {
            404: 'No quarantined record of yours has this id',
            422: 'The corrected record was rejected too, and quarantined with its reasons',
          }),
        },
      },
    },
    async (request, reply) => {
      if (!(await loaded(reply))) return reply;
      const principal = request.agencyPrincipal;
      const original = desk.index.get(request.params.id, agencyOf(principal));
      if (!original || !principal) return notFound(reply, request.params.id);
      const traceparent = request.headers.traceparent;
      const outcomes = await inSpan(
        `${definition.name} POST /v1/quarantine/{id}/resend`,
        Array.isArray(traceparent) ? traceparent[0] : traceparent,
        (tp) => ingest.ingest([request.body], { source: 'http', traceparent: tp, receivedAt: deps.clock() }),
      );
      const [outcome] = outcomes;
      if (!outcome) throw new Error('The ingest answered no record');
      const at = new Date(deps.clock()).toISOString();
      const accepted = outcome.status === 'accepted';
      await desk.writer.resolve(
        {
          id: original.id,
          state: accepted ? 'resent' : 'superseded',
          at,
          by: principal.clientId,
          ...(accepted ? { eventId: outcome.eventId } : {}),
        },
        {
          action: REDRIVE_ACTIONS.resend,
          at,
          actor: { kind: principal.role === 'operator' ? 'operator' : 'agency', id: principal.clientId },
          agency: original.agency,
          subject: { quarantineId: original.id },
          ...(accepted
            ? {
                outcome: REDRIVE_OUTCOMES.accepted,
                target: {
                  topic: outcome.topic,
                  partition: outcome.partition,
                  offset: outcome.offset,
                  eventId: outcome.eventId,
                },
              }
            : {
                outcome: REDRIVE_OUTCOMES.rejected,
                errors: outcome.errors.map((e) => ({ path: e.path, code: e.code })),
              }),
        },
      );
      return sendOutcomes(reply, outcomes);
    },
  );
}

/** The agency whose records a principal sees; undefined for an operator, who sees them all. */
function agencyOf(principal: Principal | null): string | undefined {
  if (principal?.role === 'operator') return undefined;
  // An agency principal always has its agency; a principal without one sees nothing.
  return principal?.agency ?? '\u0000';
}

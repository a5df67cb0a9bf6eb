import { type FastifyInstance, type FastifyReply, type onRequestHookHandler } from 'fastify';
import { type Kafka } from 'kafkajs';
import { type Db } from 'mongodb';
import { type Clock } from '../../platform/clock';
import { sendProblem } from '../../platform/http';
import { problemResponses } from '../../platform/problem';
import { type EventDecoder } from '../../sharing/event-decoder';
import { VIEW_NAMES, type ViewName } from '../../sharing/projection';
import { type AuditTrail, type FlowPeriod } from '../audit-trail';
import { type FieldPolicies, MASKS } from '../field-policy';
import { NotReconstructible, reconstructAnswer, RECONSTRUCTION_MISSES } from '../reconstruction';
import { fetchMessages } from '../event-fetcher';
import { EXPOSURE_ROLES, ExposureCollector } from '../exposures';
import { lineageOf, sourceCoordinates } from '../lineage';
import {
  ACTOR_PATTERN,
  AGENCY_PATTERN,
  isSubjectId,
  SUBJECT_MAX_LENGTH,
  SUBJECT_PATTERNS,
} from '../subjects';
import { type ViewReader } from '../view-reader';
import { LOOKUP_ANSWER, subjectNotFound } from './lookups';
import { type LookupLimits } from '../app';

export interface AuditRouteOptions {
  trail: AuditTrail;
  /** Where kept policy versions are read, to reconstruct answers. */
  db: Db;
  /** The policies served now. */
  policies: FieldPolicies;
  views: ViewReader;
  kafka: Kafka;
  decoder: EventDecoder;
  limits: LookupLimits;
  rateLimits: onRequestHookHandler[];
  lineageTimeoutMs: number;
  /** `to` of a data-flow summary when the auditor gives none. */
  clock: Clock;
}

const DAY_MS = 86_400_000;
/** Longest time range of one data-flow summary. */
const MAX_FLOW_RANGE_MS = 366 * DAY_MS;

const ANSWER_EVENT = {
  type: 'object',
  properties: {
    path: { type: 'string', description: "The section's path in the view document" },
    role: { type: 'string', enum: ['section', 'filled', 'derived'] },
    agency: { type: 'string' },
    topic: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    eventId: { type: 'string' },
  },
} as const;

/** An audit record as auditors and citizens receive it. */
export const AUDIT_RECORD = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    action: { type: 'string' },
    actor: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, agency: { type: ['string', 'null'] }, role: { type: 'string' } },
    },
    subject: {
      type: ['object', 'null'],
      properties: { view: { type: 'string' }, id: { type: 'string' } },
    },
    dossierId: { type: ['string', 'null'] },
    procedureCode: { type: ['string', 'null'] },
    fields: { type: 'array', items: { type: 'string' } },
    sources: { type: 'array', items: { type: 'string' } },
    masks: {
      type: 'array',
      description:
        'How each returned field was shown; absent from records written before masks were recorded',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, mask: { type: 'string', enum: [...MASKS] } },
      },
    },
    policyVersion: {
      type: 'string',
      description: 'SHA-256 of the field policy file the answer was cut by; absent from older records',
    },
    answerDigest: {
      type: 'string',
      description:
        'SHA-256, hex, of the body answered (never the body itself); absent from older records and bodiless answers',
    },
    answerEvents: {
      type: 'array',
      description:
        "On an allowed lookup: every event the answer's sections were built from (`section`: its last event; `filled`: an older version that filled it late; `derived`: the source of a section a served derived value was computed from)",
      items: ANSWER_EVENT,
    },
    exposures: {
      type: 'array',
      description:
        'Each citizen the answer showed, with the full id even where the answer masked it, in what capacity, where and through which mask; absent from older records',
      items: {
        type: 'object',
        properties: {
          citizenId: { type: 'string' },
          as: { type: 'string', enum: [...EXPOSURE_ROLES] },
          fields: { type: 'array', items: { type: 'string' } },
          mask: { type: 'string' },
        },
      },
    },
    citizenIds: {
      type: 'array',
      items: { type: 'string' },
      description:
        "The citizens the record concerns (those exposed, and the citizen asked about even when refused): what a citizen's access log matches; absent from older records",
    },
    result: { type: 'string' },
    reason: { type: ['string', 'null'] },
    status: { type: 'integer' },
    traceId: { type: ['string', 'null'] },
    flood: {
      type: 'object',
      description:
        'On an aggregate record only: the requests of one client refused past a rate limit in one minute',
      properties: {
        client: { type: 'string' },
        minute: { type: 'string', format: 'date-time' },
        count: { type: 'integer' },
      },
    },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
} as const;

/** A page of records, newest first, and the cursor of the next page. */
export const RECORD_PAGE = {
  type: 'object',
  properties: {
    records: { type: 'array', items: AUDIT_RECORD },
    next: { type: ['integer', 'null'], description: 'Pass as `before` for the next page; null at the end' },
  },
} as const;

export function pageQuery(pageMax: number) {
  return {
    before: { type: 'integer', minimum: 1, description: 'Only records before this sequence number' },
    limit: { type: 'integer', minimum: 1, maximum: pageMax, default: Math.min(50, pageMax) },
  } as const;
}

interface HistoryQuery {
  subjectView?: ViewName;
  subjectId?: string;
  officerId?: string;
  agency?: string;
  dossierId?: string;
  from?: string;
  to?: string;
  before?: number;
  limit: number;
}

/**
 * The auditors' routes (role `auditor`): the access history with filters, the chain's
 * verification, the lineage of a view document and the data-flow summary.
 */
export async function auditRoutes(app: FastifyInstance, options: AuditRouteOptions): Promise<void> {
  const { trail, views } = options;
  const auditor = { config: { roles: ['auditor'] as const }, onRequest: options.rateLimits };

  app.get<{ Querystring: HistoryQuery }>(
    '/v1/audit/records',
    {
      ...auditor,
      schema: {
        summary: 'Access history: who looked at what, when, for which dossier',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          dependencies: { subjectView: ['subjectId'], subjectId: ['subjectView'] },
          properties: {
            subjectView: { type: 'string', enum: [...VIEW_NAMES] },
            subjectId: { type: 'string', maxLength: SUBJECT_MAX_LENGTH, pattern: '^[0-9A-ZĐa-z.-]+$' },
            officerId: { type: 'string', pattern: ACTOR_PATTERN },
            agency: { type: 'string', maxLength: 40, pattern: AGENCY_PATTERN },
            dossierId: { type: 'string', maxLength: SUBJECT_MAX_LENGTH, pattern: SUBJECT_PATTERNS.dossiers },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            ...pageQuery(options.limits.pageMax),
          },
        },
        response: { 200: RECORD_PAGE },
      },
    },
    async (request, reply) => {
      const q = request.query;
      if (q.subjectView && q.subjectId && !isSubjectId(q.subjectView, q.subjectId)) {
        return invalid(reply, 'querystring.subjectId', `is not an identifier of ${q.subjectView}`);
      }
      if (q.subjectView && q.subjectId) request.audit.subject = { view: q.subjectView, id: q.subjectId };
      if (q.dossierId) request.audit.dossierId = q.dossierId;
      const page = await trail.query({
        ...(q.subjectView && q.subjectId ? { subject: { view: q.subjectView, id: q.subjectId } } : {}),
        ...(q.officerId ? { actorId: q.officerId } : {}),
        ...(q.agency ? { agency: q.agency } : {}),
        ...(q.dossierId ? { dossierId: q.dossierId } : {}),
        ...(q.from ? { from: new Date(q.from) } : {}),
        ...(q.to ? { to: new Date(q.to) } : {}),
        ...(q.before === undefined ? {} : { before: q.before }),
        limit: q.limit,
      });
      return page;
    },
  );

  app.get<{ Querystring: { full: boolean } }>(
    '/v1/audit/verify',
    {
      ...auditor,
      schema: {
        summary:
          'Check the audit chain from the last verified seal, or whole with `full`, and name every edited, missing, reordered or truncated record',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            full: {
              type: 'boolean',
              default: false,
              description: 'Walk from the first record rather than from the last seal a walk verified',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['ok', 'fromSeq', 'checked', 'lastSeq', 'sealedSeq', 'breaches'],
            properties: {
              ok: { type: 'boolean' },
              fromSeq: { type: 'integer', description: 'Where the walk began: 1 when full' },
              checked: { type: 'integer', description: 'Records read' },
              lastSeq: { type: 'integer' },
              sealedSeq: {
                type: 'integer',
                description: 'The highest sequence number a valid seal vouches for, in the store or in Kafka',
              },
              copy: {
                type: 'object',
                description:
                  "The comparison with the trail's Kafka copy; absent when the trail is not copied",
                required: ['compared', 'lastSeq', 'sealedSeq'],
                properties: {
                  compared: { type: 'boolean', description: 'Whether the copy could be read' },
                  lastSeq: { type: 'integer', description: 'The last sequence number the copy holds' },
                  sealedSeq: {
                    type: 'integer',
                    description: 'The highest sequence number a valid seal in the copy vouches for',
                  },
                },
              },
              breaches: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    seq: { type: 'integer' },
                    kind: {
                      type: 'string',
                      enum: ['edited', 'missing', 'reordered', 'truncated', 'seal-invalid'],
                    },
                    detail: { type: 'string' },
                  },
                  additionalProperties: true,
                },
              },
            },
          },
        },
      },
    },
    async (request) => trail.verify({ full: request.query.full }),
  );

  app.get<{ Params: { view: ViewName; id: string }; Querystring: { events: boolean } }>(
    '/v1/audit/lineage/:view/:id',
    {
      ...auditor,
      schema: {
        summary: "Each section of a view document with its source event's coordinates and the event itself",
        tags: ['audit'],
        params: {
          type: 'object',
          required: ['view', 'id'],
          properties: {
            view: { type: 'string', enum: [...VIEW_NAMES] },
            id: { type: 'string', maxLength: SUBJECT_MAX_LENGTH },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            events: {
              type: 'boolean',
              default: true,
              description: 'Whether to read each source event back from Kafka and decode it',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['view', 'id', 'sections'],
            properties: {
              view: { type: 'string' },
              id: { type: 'string' },
              sections: {
                type: 'array',
                description:
                  "Each section's path, its source coordinates and, when asked, the decoded event. The event is shown only if the message at the coordinates carries the section's eventId; otherwise `event` is `{ found: false, code, reason }`, `code` being EVENT_NOT_FOUND, EVENT_REPLACED (another event is there: the topic was recreated) or EVENT_UNREADABLE",
                items: { type: 'object', additionalProperties: true },
              },
            },
          },
          ...problemResponses([404], { 404: 'The views hold no such subject' }),
        },
      },
    },
    async (request, reply) => {
      const { view, id } = request.params;
      if (!isSubjectId(view, id)) return invalid(reply, 'params.id', `is not an identifier of ${view}`);
      request.audit.subject = { view, id };
      const doc = await views.get(view, id);
      if (!doc) return subjectNotFound(reply, view);
      const messages = request.query.events
        ? await fetchMessages(options.kafka, sourceCoordinates(doc), options.lineageTimeoutMs)
        : undefined;
      const sections = await lineageOf(doc, messages, options.decoder);
      request.audit.sources = [...new Set(sections.map((s) => s.source.agency))].sort();
      request.audit.fields = sections.map((s) => `${view}.${s.path}`);
      // Lineage is for auditors and shows every value as it is.
      request.audit.masks = request.audit.fields.map((field) => ({ field, mask: 'clear' }));
      const answer = { view, id, sections };
      // Every citizen the answer names, in the views' values and in the decoded source events.
      const exposed = new ExposureCollector();
      if (view === 'citizens') exposed.add(id, 'subject', 'id', 'clear');
      exposed.walk(answer, '', 'clear');
      request.audit.exposures = exposed.exposures();
      return answer;
    },
  );

  app.get<{ Params: { seq: number } }>(
    '/v1/audit/records/:seq/answer',
    {
      ...auditor,
      schema: {
        summary: 'What did the officer see? The body an allowed lookup answered, rebuilt byte for byte',
        description:
          "Reads back from Kafka the events the record names, replays their partitions through the sharing service's projections, cuts the document with the policy version the record names (kept by digest), and serializes it as the lookup did. `digest.matches` says whether its SHA-256 is the recorded one. Where an event or the policy version is gone, the answer is still 200, `complete: false`, `body: null`, and `misses` names each thing missing and why.",
        tags: ['audit'],
        params: {
          type: 'object',
          required: ['seq'],
          properties: { seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: {
          200: {
            type: 'object',
            required: ['seq', 'complete', 'digest', 'policyVersion', 'body', 'events', 'misses'],
            properties: {
              seq: { type: 'integer' },
              complete: {
                type: 'boolean',
                description: 'Whether every recorded event and the policy version were found',
              },
              digest: {
                type: 'object',
                required: ['recorded', 'reconstructed', 'matches'],
                properties: {
                  recorded: { type: 'string' },
                  reconstructed: { type: ['string', 'null'] },
                  matches: { type: 'boolean' },
                },
              },
              policyVersion: { type: 'string' },
              body: {
                type: ['string', 'null'],
                description:
                  'The body rebuilt, as a string of exactly the bytes the officer received (UTF-8)',
              },
              events: {
                type: 'array',
                items: {
                  ...ANSWER_EVENT,
                  properties: {
                    ...ANSWER_EVENT.properties,
                    found: { type: 'boolean', description: 'Found at its coordinates, with its eventId' },
                  },
                },
              },
              misses: {
                type: 'array',
                description:
                  'What could not be found, and why: EVENT_NOT_FOUND, EVENT_REPLACED, EVENT_UNREADABLE (with `event`), PARTITION_TRUNCATED (with `partition`), POLICY_VERSION_UNKNOWN, POLICY_VERSION_ALTERED, POLICY_VERSION_UNREADABLE, POLICY_GRANT_MISSING, DOCUMENT_NOT_REBUILT',
                items: {
                  type: 'object',
                  required: ['code', 'reason'],
                  properties: {
                    code: { type: 'string', enum: Object.values(RECONSTRUCTION_MISSES) },
                    reason: { type: 'string' },
                    event: ANSWER_EVENT,
                    partition: {
                      type: 'object',
                      properties: {
                        topic: { type: 'string' },
                        partition: { type: 'integer' },
                        start: { type: 'string' },
                      },
                    },
                  },
                },
              },
            },
          },
          ...problemResponses([404, 422], {
            404: 'The trail holds no record with this sequence number',
            422: 'The record is not an allowed lookup with a recorded answer (RECORD_NOT_RECONSTRUCTIBLE)',
          }),
        },
      },
    },
    async (request, reply) => {
      const record = await trail.get(request.params.seq);
      if (!record) {
        return sendProblem(reply, {
          status: 404,
          title: 'Not found',
          code: 'RECORD_NOT_FOUND',
          detail: `The audit trail holds no record ${request.params.seq}`,
        });
      }
      // The rebuilt body shows what the lookup showed: this read is audited like it.
      request.audit.subject = record.subject;
      let rebuilt;
      try {
        rebuilt = await reconstructAnswer(record, {
          kafka: options.kafka,
          decoder: options.decoder,
          db: options.db,
          policies: options.policies,
          readTimeoutMs: options.lineageTimeoutMs,
          serialize: (answer) => reply.serializeInput(answer, LOOKUP_ANSWER),
        });
      } catch (err) {
        if (!(err instanceof NotReconstructible)) throw err;
        return sendProblem(reply, {
          status: 422,
          title: 'Not reconstructible',
          code: 'RECORD_NOT_RECONSTRUCTIBLE',
          detail: err.message,
        });
      }
      if (rebuilt.complete) {
        request.audit.fields = record.fields;
        request.audit.sources = record.sources;
        request.audit.masks = record.masks;
        const exposed = new ExposureCollector();
        if (record.subject?.view === 'citizens')
          exposed.add(record.subject.id, 'subject', 'subject.id', 'clear');
        exposed.addAll(rebuilt.exposures);
        request.audit.exposures = exposed.exposures();
      }
      return {
        seq: record.seq,
        complete: rebuilt.complete,
        digest: rebuilt.digest,
        policyVersion: record.policyVersion,
        body: rebuilt.body,
        events: rebuilt.events,
        misses: rebuilt.misses,
      };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; period: FlowPeriod } }>(
    '/v1/audit/flows',
    {
      ...auditor,
      schema: {
        summary:
          "Which agency's data was read by which agency, by lookups and by deliveries under sharing agreements, with counts per period",
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', format: 'date-time', description: 'Default: 30 days before `to`' },
            to: { type: 'string', format: 'date-time', description: 'Default: now' },
            period: { type: 'string', enum: ['hour', 'day', 'month'], default: 'day' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'string', format: 'date-time' },
              to: { type: 'string', format: 'date-time' },
              period: { type: 'string' },
              flows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    period: { type: 'string' },
                    readerAgency: { type: 'string' },
                    sourceAgency: { type: 'string' },
                    lookups: {
                      type: 'integer',
                      description: "Allowed lookups by the reader agency's officers",
                    },
                    deliveries: {
                      type: 'integer',
                      description: "Events the reader agency's systems received under sharing agreements",
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const to = new Date(request.query.to ?? options.clock());
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (to.getTime() - from.getTime() > MAX_FLOW_RANGE_MS || to < from) {
        return invalid(reply, 'querystring.from', 'must be before `to`, by 366 days at most');
      }
      const flows = await trail.flows(from, to, request.query.period);
      return { from, to, period: request.query.period, flows };
    },
  );
}

/** A 400 for a value the schema let through but the route refuses, with its path. */
export function invalid(reply: FastifyReply, path: string, message: string) {
  return sendProblem(reply, {
    status: 400,
    title: 'Invalid request',
    code: 'INVALID_REQUEST',
    detail: `${path} ${message}`,
    errors: [{ path, message }],
  });
}

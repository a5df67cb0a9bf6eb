import { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { HANOI_UTC_OFFSET_MS } from '../../platform/clock';
import { sendProblem } from '../../platform/http';
import { AGENCY_SYSTEM_ROLE, type AuditRecord } from '../audit-chain';
import { type AuditTrail } from '../audit-trail';
import { DENIALS } from '../dossier-binding';
import { EXPOSURE_ROLES, type ExposureRole } from '../exposures';
import { SUBJECT_MAX_LENGTH, SUBJECT_PATTERNS } from '../subjects';
import { type LookupLimits } from '../app';
import { pageQuery } from './audit';

export interface CitizenRouteOptions {
  trail: AuditTrail;
  limits: LookupLimits;
  rateLimits: onRequestHookHandler[];
}

const ACCESS = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    officer: { type: 'string', description: "The officer's or auditor's id" },
    role: { type: 'string' },
    agency: { type: ['string', 'null'] },
    dossierId: { type: ['string', 'null'] },
    procedureCode: { type: ['string', 'null'] },
    result: { type: 'string', description: 'allowed, or denied with the reason' },
    reason: { type: ['string', 'null'] },
    fields: { type: 'array', items: { type: 'string' }, description: 'Every field the answer returned' },
    subject: {
      type: ['object', 'null'],
      description:
        "The record that was read: your own, a vehicle's, an enterprise's or a dossier's; another citizen's is not named",
      properties: { view: { type: 'string' }, id: { type: ['string', 'null'] } },
    },
    seenAs: {
      type: 'array',
      description:
        'How the answer showed you: as the subject, as the owner of the vehicle read, as the legal representative of the enterprise read, as the applicant of the dossier read, or named in the source events of a lineage read; empty when nothing was returned',
      items: {
        type: 'object',
        properties: {
          as: { type: 'string', enum: [...EXPOSURE_ROLES] },
          fields: { type: 'array', items: { type: 'string' }, description: 'Where the answer held your id' },
          mask: {
            type: 'string',
            description: '`clear`, or `last4` when only its last four digits were shown',
          },
        },
      },
    },
    agreement: {
      type: 'object',
      description:
        "For a delivery to an agency's system: the sharing agreement it was made under, its version (the SHA-256 of its text), purpose and legal basis, and the event delivered",
      properties: {
        id: { type: 'string' },
        version: { type: 'string' },
        purpose: { type: 'string' },
        legalBasis: { type: 'string' },
        eventType: { type: 'string' },
      },
    },
    description: { type: 'string', description: 'The access in plain words' },
  },
} as const;

/**
 * `GET /v1/citizens/{id}/access-log` (role `citizen`, own id only): every officer's and auditor's
 * request about the citizen, allowed or refused, and every delivery of the citizen's data to an
 * agency's system under a sharing agreement, newest first.
 */
export async function citizenRoutes(app: FastifyInstance, options: CitizenRouteOptions): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { before?: number; limit: number } }>(
    '/v1/citizens/:id/access-log',
    {
      config: { roles: ['citizen'] },
      onRequest: options.rateLimits,
      schema: {
        summary: 'Who accessed my data, when, and for which dossier and procedure',
        tags: ['citizens'],
        params: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string', maxLength: SUBJECT_MAX_LENGTH, pattern: SUBJECT_PATTERNS.citizens },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pageQuery(options.limits.pageMax),
        },
        response: {
          200: {
            type: 'object',
            properties: { accesses: { type: 'array', items: ACCESS }, next: { type: ['integer', 'null'] } },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      request.audit.subject = { view: 'citizens', id };
      if (request.caller?.id !== id) {
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          code: DENIALS.NOT_OWN_RECORD,
          detail: 'A citizen may read only their own access log',
        });
      }
      const page = await options.trail.query({
        citizenId: id,
        roles: ['officer', 'auditor', AGENCY_SYSTEM_ROLE],
        ...(request.query.before === undefined ? {} : { before: request.query.before }),
        limit: request.query.limit,
      });
      return { accesses: page.records.map((r) => accessOf(r, id)), next: page.next };
    },
  );
}

/** What `as` says, before the record it was seen in. */
const ROLE_WORDS: Readonly<Record<ExposureRole, string>> = {
  subject: 'as the person looked up',
  owner: 'as the owner of',
  'previous-owner': 'as a previous owner of',
  'legal-representative': 'as the legal representative of',
  'previous-legal-representative': 'as a former legal representative of',
  applicant: 'as the applicant of',
  named: 'as named in the source events of',
};

const VIEW_WORDS: Readonly<Record<string, string>> = {
  vehicles: 'vehicle',
  enterprises: 'enterprise',
  dossiers: 'dossier',
};

/**
 * One record as the citizen `citizenId` reads it: only how it showed them, never the other
 * citizens the same answer showed, and another citizen's record unnamed.
 */
export function accessOf(r: AuditRecord, citizenId: string) {
  const subject =
    r.subject === null
      ? null
      : r.subject.view === 'citizens' && r.subject.id !== citizenId
        ? { view: 'citizens', id: null }
        : r.subject;
  // Records written before exposures were recorded were about the citizen as the subject.
  const seenAs =
    r.exposures === undefined
      ? r.result === 'allowed'
        ? [{ as: 'subject' as const, fields: r.fields, mask: 'clear' }]
        : []
      : r.exposures
          .filter((e) => e.citizenId === citizenId)
          .map(({ as, fields, mask }) => ({ as, fields, mask }));
  return {
    seq: r.seq,
    at: r.at,
    officer: r.actor?.id ?? 'unknown',
    role: r.actor?.role ?? 'unknown',
    agency: r.actor?.agency ?? null,
    dossierId: r.dossierId,
    procedureCode: r.procedureCode,
    result: r.result,
    reason: r.reason,
    fields: r.fields,
    subject,
    seenAs,
    ...(r.flow
      ? {
          agreement: {
            id: r.flow.agreementId,
            version: r.flow.agreementVersion,
            purpose: r.flow.purpose,
            legalBasis: r.flow.legalBasis,
            eventType: r.flow.eventType,
          },
        }
      : {}),
    description: r.flow ? describeDelivery(r, r.flow, subject) : describe(r, subject, seenAs),
  };
}

/** What each source contract's records are, in the citizen's words. */
const TOPIC_WORDS: Readonly<Record<string, string>> = {
  'business-registration': 'enterprise registration record',
  vehicle: 'vehicle registration record',
  tax: 'tax record',
  dossier: 'dossier record',
};

/**
 * A delivery in plain words: "The system of HN-CUCTHUE received data of your enterprise
 * registration record (enterprise 0101234567, EnterpriseRegistered: …) under agreement …".
 */
function describeDelivery(
  r: AuditRecord,
  flow: NonNullable<AuditRecord['flow']>,
  subject: { view: string; id: string | null } | null,
): string {
  const what = TOPIC_WORDS[flow.topic] ?? `${flow.topic} record`;
  const which =
    subject && subject.view !== 'citizens'
      ? ` (${VIEW_WORDS[subject.view] ?? subject.view} ${subject.id})`
      : '';
  const from = r.sources.length > 0 ? ` from ${r.sources.join(', ')}` : '';
  // `<topic>.<event type>.<field>`: the field's own name says enough here.
  const fields = r.masks.map(({ field, mask }) => {
    const name = field.split('.').at(-1) ?? field;
    return mask === 'clear' ? name : `${name} (${mask})`;
  });
  return (
    `The system of ${r.actor?.agency ?? 'an agency'} received your ${what}${which}${from} ` +
    `(${flow.eventType}: ${fields.join(', ')}) under sharing agreement ${flow.agreementId} ` +
    `(version ${flow.agreementVersion.slice(0, 12)}) on ${hanoiTime(r.at)} (Hà Nội time), ` +
    `for: ${flow.purpose}`
  );
}

function describe(
  r: AuditRecord,
  subject: { view: string; id: string | null } | null,
  seenAs: readonly { as: ExposureRole; mask: string }[],
): string {
  const who = `${r.actor?.role === 'auditor' ? 'Auditor' : 'Officer'} ${r.actor?.id ?? 'unknown'}${
    r.actor?.agency ? ` of ${r.actor.agency}` : ''
  }`;
  const what =
    subject === null
      ? 'a record'
      : subject.view === 'citizens'
        ? subject.id === null
          ? "another citizen's record"
          : 'your record'
        : `${VIEW_WORDS[subject.view] ?? subject.view} ${subject.id}`;
  const lineage = r.action.startsWith('GET /v1/audit/lineage');
  const under = r.dossierId
    ? `, handling dossier ${r.dossierId}${r.procedureCode ? ` (procedure ${r.procedureCode})` : ''}`
    : '';
  const when = `on ${hanoiTime(r.at)} (Hà Nội time)`;
  if (seenAs.length === 0) {
    const outcome =
      r.result === 'allowed' ? 'nothing about you was returned' : `refused: ${r.reason ?? r.result}`;
    return `${who} asked for ${what}${under} ${when}; ${outcome}`;
  }
  const ways = seenAs.map(({ as, mask }) => {
    const role = as === 'subject' ? ROLE_WORDS.subject : `${ROLE_WORDS[as]} ${what}`;
    return mask === 'clear' ? role : `${role} (your id masked, ${mask})`;
  });
  const verb = lineage ? `read the lineage of ${what}, which showed you` : 'saw your data';
  return `${who} ${verb} ${ways.join(' and ')}${under} ${when}`;
}

/** `2026-12-01 09:30` on Hà Nội's clock. */
function hanoiTime(at: Date): string {
  return new Date(at.getTime() + HANOI_UTC_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

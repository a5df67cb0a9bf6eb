import { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { sendProblem } from '../../platform/http';
import { type AuditTrail } from '../audit-trail';
import { DENIALS } from '../dossier-binding';
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
    fields: { type: 'array', items: { type: 'string' } },
  },
} as const;

/**
 * `GET /v1/citizens/{id}/access-log` (role `citizen`, own id only): every officer's and auditor's
 * request about the citizen, allowed or refused, newest first.
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
        subject: { view: 'citizens', id },
        roles: ['officer', 'auditor'],
        ...(request.query.before === undefined ? {} : { before: request.query.before }),
        limit: request.query.limit,
      });
      return {
        accesses: page.records.map((r) => ({
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
        })),
        next: page.next,
      };
    },
  );
}

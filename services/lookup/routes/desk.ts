import { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { TOPICS } from '../../../schemas/topics';
import { sendProblem } from '../../platform/http';
import { type ViewName } from '../../sharing/projection';
import { bindDossier, DENIALS } from '../dossier-binding';
import { type FieldPolicies, MASKS } from '../field-policy';
import { SUBJECT_MAX_LENGTH, SUBJECT_PATTERNS } from '../subjects';
import { type ViewReader } from '../view-reader';

export interface DeskRouteOptions {
  views: ViewReader;
  policies: FieldPolicies;
  rateLimits: onRequestHookHandler[];
}

/**
 * The agency whose events fill each section, by the topic that carries them; `null` for a section
 * derived from the identifier itself (what a citizen id says of its holder).
 */
const SECTION_SOURCES: Readonly<Record<ViewName, Readonly<Record<string, string | null>>>> = {
  citizens: {
    identity: null,
    tax: TOPICS.tax.owner,
    enterprises: TOPICS['business-registration'].owner,
    vehicles: TOPICS.vehicle.owner,
    dossiers: TOPICS.dossier.owner,
  },
  enterprises: {
    registration: TOPICS['business-registration'].owner,
    tax: TOPICS.tax.owner,
    vehicles: TOPICS.vehicle.owner,
    dossiers: TOPICS.dossier.owner,
  },
  vehicles: { registration: TOPICS.vehicle.owner, history: TOPICS.vehicle.owner },
  dossiers: { dossier: TOPICS.dossier.owner, timeline: TOPICS.dossier.owner },
};

const PARTY = {
  type: 'object',
  properties: { citizenId: { type: 'string' }, enterpriseCode: { type: 'string' } },
} as const;

/**
 * `GET /v1/desk/{dossierId}` (role `officer`): the dossier at hand as the desk received it, and
 * what its procedure's policy lets the officer see while handling it: its purpose, and per view
 * and section the fields, their masks and the agency the section comes from. Bound like a lookup:
 * the dossier must be open and handled by the officer's agency, and each refusal is the lookup's
 * own 403 with its code, so the desk reveals no more than a lookup would. Audited like any call.
 */
export async function deskRoutes(app: FastifyInstance, options: DeskRouteOptions): Promise<void> {
  app.get<{ Params: { dossierId: string } }>(
    '/v1/desk/:dossierId',
    {
      config: { roles: ['officer'] },
      onRequest: options.rateLimits,
      schema: {
        summary: "The dossier at an officer's desk, and what its procedure's policy lets them see",
        tags: ['lookups'],
        params: {
          type: 'object',
          required: ['dossierId'],
          properties: {
            dossierId: { type: 'string', maxLength: SUBJECT_MAX_LENGTH, pattern: SUBJECT_PATTERNS.dossiers },
          },
        },
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: {
          200: {
            type: 'object',
            required: ['dossier', 'policy'],
            properties: {
              dossier: {
                type: 'object',
                properties: {
                  dossierId: { type: 'string' },
                  procedureCode: { type: 'string' },
                  procedureName: { type: ['string', 'null'] },
                  applicant: PARTY,
                  status: { type: ['string', 'null'] },
                  receivedAt: { type: ['string', 'null'], format: 'date-time' },
                  dueAt: { type: ['string', 'null'], format: 'date-time' },
                  handlingAgency: { type: 'string' },
                },
              },
              policy: {
                type: 'object',
                properties: {
                  procedureCode: { type: 'string' },
                  agency: { type: 'string' },
                  purpose: { type: 'string' },
                  sections: {
                    type: 'array',
                    description: 'Each section the policy opens, with its source agency and field masks',
                    items: {
                      type: 'object',
                      properties: {
                        view: { type: 'string' },
                        section: { type: 'string' },
                        sourceAgency: { type: ['string', 'null'] },
                        fields: {
                          type: 'array',
                          items: {
                            type: 'object',
                            properties: {
                              field: { type: 'string' },
                              mask: { type: 'string', enum: [...MASKS] },
                            },
                          },
                        },
                      },
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
      const { dossierId } = request.params;
      request.audit.subject = { view: 'dossiers', id: dossierId };
      request.audit.dossierId = dossierId;
      const doc = await options.views.get('dossiers', dossierId);
      const binding = bindDossier(doc, request.caller?.agency ?? '');
      if (!binding.ok) {
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          code: binding.denial,
          detail: binding.detail,
        });
      }
      const { dossier } = binding;
      request.audit.procedureCode = dossier.procedureCode;
      const policy = options.policies.find(dossier.procedureCode, dossier.handlingAgency);
      if (!policy) {
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          code: DENIALS.NO_POLICY,
          detail: `No field policy grants procedure ${dossier.procedureCode} to this agency`,
        });
      }
      const held = (doc?.dossier ?? {}) as Record<string, unknown>;
      const date = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
      request.audit.fields = [
        'dossiers.dossier.applicant',
        'dossiers.dossier.dueAt',
        'dossiers.dossier.procedureCode',
        'dossiers.dossier.procedureName',
        'dossiers.dossier.receivedAt',
        'dossiers.dossier.status',
      ];
      request.audit.masks = request.audit.fields.map((field) => ({ field, mask: 'clear' }));
      request.audit.sources = [TOPICS.dossier.owner];
      return {
        dossier: {
          dossierId: dossier.dossierId,
          procedureCode: dossier.procedureCode,
          procedureName: typeof held.procedureName === 'string' ? held.procedureName : null,
          applicant: dossier.applicant,
          status: typeof held.status === 'string' ? held.status : null,
          receivedAt: date(held.receivedAt),
          dueAt: date(held.dueAt),
          handlingAgency: dossier.handlingAgency,
        },
        policy: {
          procedureCode: policy.procedureCode,
          agency: policy.agency,
          purpose: policy.purpose,
          sections: Object.entries(policy.views).flatMap(([view, sections]) =>
            Object.entries(sections ?? {}).map(([section, fields]) => ({
              view,
              section,
              sourceAgency: SECTION_SOURCES[view as ViewName]?.[section] ?? null,
              fields: Object.entries(fields).map(([field, mask]) => ({ field, mask })),
            })),
          ),
        },
      };
    },
  );
}

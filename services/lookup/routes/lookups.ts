import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FastifyInstance, type FastifyReply, type onRequestHookHandler } from 'fastify';
import { sendProblem } from '../../platform/http';
import { problemResponses } from '../../platform/problem';
import { type ViewName } from '../../sharing/projection';
import {
  BINDING_FIELDS,
  bindDossier,
  concernsSubject,
  type Denial,
  DENIALS,
  subjectLinks,
} from '../dossier-binding';
import { ExposureCollector } from '../exposures';
import { type FieldPolicies, projectDocument, sectionsRead } from '../field-policy';
import { SUBJECT_MAX_LENGTH, SUBJECT_PATTERNS, SUBJECT_ROUTES } from '../subjects';
import { type ViewReader } from '../view-reader';

export interface LookupRouteOptions {
  views: ViewReader;
  policies: FieldPolicies;
  rateLimits: onRequestHookHandler[];
  limits: { refusalFloorMs?: number };
}

/**
 * The least time a lookup's refusal takes by default: above what a refusal costs here (5 to 25 ms,
 * loaded), so that a refusal's timing tells nothing of the subject even where the store takes
 * longer to find a document than to miss one. Allowed answers are not held back.
 */
export const REFUSAL_FLOOR_MS = 50;

const DOSSIER_HEADER = 'x-dossier-id';

/** A lookup's answer: also how a reconstructed answer is serialized, so that its bytes are the same. */
export const LOOKUP_ANSWER = {
  type: 'object',
  required: ['subject', 'dossierId', 'procedureCode', 'policy', 'data'],
  properties: {
    subject: {
      type: 'object',
      properties: { view: { type: 'string' }, id: { type: 'string' } },
    },
    dossierId: { type: 'string', description: 'The dossier the lookup was made for' },
    procedureCode: { type: 'string' },
    policy: {
      type: 'object',
      description: 'The grant applied: the procedure and the agency (or agency prefix) it names',
      properties: { procedureCode: { type: 'string' }, agency: { type: 'string' } },
    },
    data: {
      type: 'object',
      description:
        'The sections the policy allows, each with only its allowed fields, masked as the policy says; a section keyed by identifier comes as an array',
      additionalProperties: true,
    },
  },
} as const;

/** 404 for a subject the views do not hold. */
export function subjectNotFound(reply: FastifyReply, view: ViewName): FastifyReply {
  return sendProblem(reply, {
    status: 404,
    title: 'Not found',
    code: 'SUBJECT_NOT_FOUND',
    detail: `The bus holds no ${view.slice(0, -1)} with this identifier`,
  });
}

/**
 * `GET /v1/citizens/{id}`, `/v1/enterprises/{code}`, `/v1/vehicles/{plate}`, `/v1/dossiers/{id}`.
 *
 * In order: the officer's dossier must be known, handled by the officer's agency and open; a
 * policy must grant the procedure to that agency and cover the view; the dossier must concern the
 * subject. Each refusal is a 403 with its reason code and no data. The subject's document, read
 * with the sections the policy returns, is returned through the policy only then.
 */
export async function lookupRoutes(app: FastifyInstance, options: LookupRouteOptions): Promise<void> {
  const { views, policies } = options;
  const floorMs = options.limits.refusalFloorMs ?? REFUSAL_FLOOR_MS;
  // A lookup of the dossier handled reads it once: what binds it, and what any policy returns of it.
  const ownDossierFields = [
    ...BINDING_FIELDS,
    ...policies.all().flatMap((p) => (p.views.dossiers ? sectionsRead('dossiers', p.views.dossiers) : [])),
  ];
  /** A 403, sent no sooner than the floor after `arrived` (a monotonic time). */
  const deny = async (reply: FastifyReply, arrived: number, denial: Denial, detail: string) => {
    const wait = arrived + floorMs - performance.now();
    if (wait > 0) await sleep(wait);
    return sendProblem(reply, { status: 403, title: 'Forbidden', code: denial, detail });
  };

  for (const { view, param } of SUBJECT_ROUTES) {
    app.get<{ Params: Record<string, string>; Headers: Record<string, string> }>(
      `/v1/${view}/:${param}`,
      {
        config: { roles: ['officer'] },
        onRequest: options.rateLimits,
        schema: {
          summary: `Look up a ${view.slice(0, -1)} for the dossier being handled`,
          tags: ['lookups'],
          params: {
            type: 'object',
            required: [param],
            properties: {
              [param]: { type: 'string', maxLength: SUBJECT_MAX_LENGTH, pattern: SUBJECT_PATTERNS[view] },
            },
          },
          headers: {
            type: 'object',
            required: [DOSSIER_HEADER],
            properties: {
              [DOSSIER_HEADER]: {
                type: 'string',
                maxLength: SUBJECT_MAX_LENGTH,
                pattern: SUBJECT_PATTERNS.dossiers,
                description: 'The dossier the officer is handling',
              },
            },
          },
          querystring: { type: 'object', additionalProperties: false, properties: {} },
          response: {
            200: LOOKUP_ANSWER,
            ...problemResponses([404], {
              404: 'The views hold no such subject (said only once every check passed)',
            }),
          },
        },
      },
      async (request, reply) => {
        const arrived = performance.now();
        const principal = request.caller;
        const id = request.params[param] as string;
        const dossierId = request.headers[DOSSIER_HEADER] as string;
        request.audit.subject = { view, id };
        request.audit.dossierId = dossierId;
        // Two reads for an allowed answer: the dossier, projected to what the binding needs (and,
        // for the dossier itself, to what a policy may return of it), then the subject, projected
        // to the sections the policy returns and the links that tell whether the dossier concerns
        // it. A refusal does the same reads for an existing subject as for a missing one.
        const itself = view === 'dossiers' && id === dossierId;
        const doc = await views.get('dossiers', dossierId, itself ? ownDossierFields : BINDING_FIELDS);
        const binding = bindDossier(doc, principal?.agency ?? '');
        if (!binding.ok) return deny(reply, arrived, binding.denial, binding.detail);
        const { dossier } = binding;
        request.audit.procedureCode = dossier.procedureCode;
        const policy = policies.find(dossier.procedureCode, dossier.handlingAgency);
        if (!policy) {
          return deny(
            reply,
            arrived,
            DENIALS.NO_POLICY,
            `No field policy grants procedure ${dossier.procedureCode} to this agency`,
          );
        }
        const rules = policy.views[view as ViewName];
        if (!rules) {
          return deny(
            reply,
            arrived,
            DENIALS.VIEW_NOT_IN_POLICY,
            `The procedure's policy does not cover ${view}`,
          );
        }
        const subject = itself
          ? doc
          : await views.get(view, id, [...sectionsRead(view, rules), ...subjectLinks(dossier, view, id)]);
        if (!(await concernsSubject(dossier, view, id, subject, (v, i, fields) => views.get(v, i, fields)))) {
          return deny(
            reply,
            arrived,
            DENIALS.DOSSIER_OTHER_SUBJECT,
            'The dossier does not concern this subject',
          );
        }
        if (!subject) return subjectNotFound(reply, view);
        const projected = projectDocument(subject, view, rules);
        request.audit.fields = projected.fields.map((f) => `${view}.${f}`);
        request.audit.sources = projected.sources;
        request.audit.masks = projected.masks.map((m) => ({ field: `${view}.${m.field}`, mask: m.mask }));
        const exposed = new ExposureCollector();
        // The answer names the subject in clear, whatever the policy shows of its document.
        if (view === 'citizens') exposed.add(id, 'subject', 'subject.id', 'clear');
        exposed.addAll(
          projected.exposures.map((e) => ({ ...e, fields: e.fields.map((f) => `${view}.${f}`) })),
        );
        request.audit.exposures = exposed.exposures();
        request.audit.answerEvents = projected.events;
        return {
          subject: { view, id },
          dossierId,
          procedureCode: dossier.procedureCode,
          policy: { procedureCode: policy.procedureCode, agency: policy.agency },
          data: projected.data,
        };
      },
    );
  }
}

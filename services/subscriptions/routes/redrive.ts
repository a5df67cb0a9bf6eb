import { type FastifyInstance } from 'fastify';
import { type Clock } from '../../platform/clock';
import { sendProblem } from '../../platform/http';
import { problemResponses } from '../../platform/problem';
import { type AuditTrail } from '../../lookup/audit-trail';
import { type Agreement } from '../agreement';
import { cloudEventOf } from '../cloud-event';
import { type DeliveryLog, type DeliveryRecord } from '../delivery-log';
import { type DerivedContract } from '../derived-schema';
import { type WebhookEndpoint } from '../endpoints';
import { type FeedStore, feedValue } from '../feed-store';
import { postWebhook } from '../webhook-dispatcher';
import { type Authenticate, callerOf } from './caller';
import { SUBSCRIPTION_PARAMS } from './deliveries';

/** A dead letter redriven this many times is held, as `npm run dlq -- redrive` holds one. */
export const DEFAULT_MAX_REDRIVES = 3;

/** What became of one dead letter. */
export const REDRIVE_OUTCOMES = ['delivered', 'failed', 'held', 'planned', 'unavailable'] as const;
export type RedriveOutcome = (typeof REDRIVE_OUTCOMES)[number];

/**
 * `POST /v1/subscriptions/{id}/redrive?dryRun=&maxRedrives=&limit=`: an operator sends a webhook
 * subscription's dead letters again, the shape of `npm run dlq -- redrive` for the sharing
 * service's: each dead delivery not redriven `maxRedrives` times is posted once more, oldest first
 * by its place in the derived topic, with its original `webhook-id` (a receiver that had applied
 * it answers 2xx and changes nothing) and what the agreement allows now; one that was redriven
 * that often is held. `dryRun` plans and sends nothing. Each request is an operator action in the
 * audit trail, recorded before anything is sent (503 when it cannot be); each outcome goes to the
 * delivery log (`redrives`, `status`).
 */
export function registerRedriveRoutes(
  app: FastifyInstance,
  deps: {
    endpoints: readonly WebhookEndpoint[];
    agreements: readonly Agreement[];
    contracts: () => ReadonlyMap<string, { contract: DerivedContract }>;
    log: () => DeliveryLog;
    feed: () => FeedStore;
    trail: () => AuditTrail;
    clock: Clock;
    timeoutMs: number;
    authenticate: Authenticate;
  },
): void {
  app.post<{
    Params: { id: string };
    Querystring: { dryRun: boolean; maxRedrives: number; limit: number };
  }>(
    '/v1/subscriptions/:id/redrive',
    {
      schema: {
        summary: "Send a webhook subscription's dead letters again (operators)",
        security: [{ apiKey: [] }],
        params: SUBSCRIPTION_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            dryRun: { type: 'boolean', default: false },
            maxRedrives: { type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_MAX_REDRIVES },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['subscriptionId', 'dryRun', 'auditSeq', 'deadLetters'],
            properties: {
              subscriptionId: { type: 'string' },
              dryRun: { type: 'boolean' },
              auditSeq: { type: 'integer', description: "The operator action's record in the audit trail" },
              deadLetters: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['eventId', 'outcome', 'redrives'],
                  properties: {
                    eventId: { type: 'string' },
                    eventType: { type: 'string' },
                    outcome: { type: 'string', enum: [...REDRIVE_OUTCOMES] },
                    redrives: { type: 'integer', description: 'Redrives so far, this one included' },
                    error: { type: ['string', 'null'] },
                  },
                  additionalProperties: false,
                },
              },
            },
            additionalProperties: false,
          },
          ...problemResponses([400, 401, 403, 404, 503]),
        },
      },
    },
    async (request, reply) => {
      const principal = callerOf(request, reply, deps.authenticate);
      if (!principal) return reply;
      if (principal.role !== 'operator')
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          code: 'FORBIDDEN',
          detail: 'Only an operator may redrive dead letters',
        });
      const endpoint = deps.endpoints.find((e) => e.id === request.params.id);
      const contract = endpoint && deps.contracts().get(endpoint.agreement)?.contract;
      if (!endpoint || !contract)
        return sendProblem(reply, {
          status: 404,
          title: 'Not Found',
          code: 'NOT_FOUND',
          detail: 'No such subscription',
        });
      const { dryRun, maxRedrives, limit } = request.query;
      const dead = (await deps.log().list(endpoint.id, { limit, status: 'dead' })).sort(
        (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
      );
      const held = dead.filter((d) => (d.redrives ?? 0) >= maxRedrives);
      const sent = dead.filter((d) => (d.redrives ?? 0) < maxRedrives);
      // Recorded before anything is sent; a failed write answers 503 and sends nothing.
      const audited = await deps.trail().append({
        action: 'POST /v1/subscriptions/:id/redrive',
        actor: { id: principal.clientId, agency: principal.agency ?? null, role: principal.role },
        subject: { view: 'subscriptions', id: endpoint.id },
        dossierId: null,
        procedureCode: null,
        fields: [],
        sources: [],
        masks: [],
        redrive: {
          subscriptionId: endpoint.id,
          agreementId: contract.agreement.id,
          eventIds: sent.map((d) => d.eventId),
          held: held.map((d) => d.eventId),
          dryRun,
        },
        policyVersion: contract.agreement.version,
        result: 'allowed',
        reason: null,
        status: 200,
        traceId: null,
      });
      const row = (d: DeliveryRecord, outcome: RedriveOutcome, redrives: number, error: string | null) => ({
        eventId: d.eventId,
        eventType: d.eventType,
        outcome,
        redrives,
        error,
      });
      const outcomes = held.map((d) => row(d, 'held', d.redrives ?? 0, d.lastError));
      for (const d of sent) {
        const redrives = (d.redrives ?? 0) + 1;
        const entry = await deps.feed().entryOf(d.eventId);
        const value = entry && feedValue(entry);
        // What the agreement allows now, as the dispatcher sends it.
        const data = value && contract.reproject(value);
        if (!entry || !value || !data) {
          outcomes.push(row(d, 'unavailable', redrives - 1, d.lastError));
          continue;
        }
        if (dryRun) {
          outcomes.push(row(d, 'planned', redrives - 1, d.lastError));
          continue;
        }
        const body = JSON.stringify(cloudEventOf(value, entry.key, data));
        const error = await postWebhook(endpoint, body, d.eventId, deps.clock, deps.timeoutMs);
        await deps.log().redriven(d._id, { error: error ?? null, at: new Date(deps.clock()) });
        outcomes.push(row(d, error === undefined ? 'delivered' : 'failed', redrives, error ?? null));
      }
      return { subscriptionId: endpoint.id, dryRun, auditSeq: audited.seq, deadLetters: outcomes };
    },
  );
}

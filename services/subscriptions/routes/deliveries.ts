import { type FastifyInstance } from 'fastify';
import { sendProblem } from '../../platform/http';
import { type Authenticate, callerOf } from './caller';
import { problemResponses } from '../../platform/problem';
import { type Agreement } from '../agreement';
import { DELIVERY_STATUSES, type DeliveryLog } from '../delivery-log';
import { type WebhookEndpoint } from '../endpoints';

const Delivery = {
  type: 'object',
  required: ['eventId', 'eventType', 'status', 'attempts', 'lastError', 'lastAttemptAt', 'deliveredAt'],
  properties: {
    eventId: { type: 'string', description: 'The derived eventId: the webhook-id the receiver saw' },
    eventType: { type: 'string' },
    agreementVersion: { type: 'string' },
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    attempts: { type: 'integer' },
    lastError: { type: ['string', 'null'], description: 'The last failure: an HTTP status or an error code' },
    firstAttemptAt: { type: 'string', format: 'date-time' },
    lastAttemptAt: { type: 'string', format: 'date-time' },
    deliveredAt: { type: ['string', 'null'], format: 'date-time' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/**
 * `GET /v1/subscriptions/{id}/deliveries`: a subscription's deliveries, newest first, for the
 * consumer agency's system (its API key) or an operator. Another agency's subscription answers
 * 404, as a missing one does, so that no agency learns which subscriptions exist.
 */
/** The `{id}` of a webhook subscription's routes: an endpoint's id as `endpoints.ts` declares it. */
export const SUBSCRIPTION_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 80 } },
} as const;

export function registerDeliveryRoutes(
  app: FastifyInstance,
  deps: {
    endpoints: readonly WebhookEndpoint[];
    agreements: readonly Agreement[];
    log: () => DeliveryLog;
    authenticate: Authenticate;
  },
): void {
  app.get<{
    Params: { id: string };
    Querystring: { limit: number; status?: (typeof DELIVERY_STATUSES)[number] };
  }>(
    '/v1/subscriptions/:id/deliveries',
    {
      schema: {
        summary: "A subscription's deliveries, newest first",
        params: SUBSCRIPTION_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['subscriptionId', 'agreementId', 'deliveries'],
            properties: {
              subscriptionId: { type: 'string' },
              agreementId: { type: 'string' },
              deliveries: { type: 'array', items: Delivery },
            },
            additionalProperties: false,
          },
          ...problemResponses([400, 401, 404, 503]),
        },
      },
    },
    async (request, reply) => {
      const principal = callerOf(request, reply, deps.authenticate);
      if (!principal) return reply;
      const endpoint = deps.endpoints.find((e) => e.id === request.params.id);
      const agreement = deps.agreements.find((a) => a.id === endpoint?.agreement);
      if (
        !endpoint ||
        !agreement ||
        (principal.role !== 'operator' && principal.agency !== agreement.consumer)
      )
        return sendProblem(reply, {
          status: 404,
          title: 'Not Found',
          code: 'NOT_FOUND',
          detail: 'No such subscription for this client',
        });
      const deliveries = await deps.log().list(endpoint.id, {
        limit: request.query.limit,
        ...(request.query.status ? { status: request.query.status } : {}),
      });
      return {
        subscriptionId: endpoint.id,
        agreementId: agreement.id,
        deliveries: deliveries.map((d) => ({
          ...d,
          firstAttemptAt: d.firstAttemptAt.toISOString(),
          lastAttemptAt: d.lastAttemptAt.toISOString(),
          deliveredAt: d.deliveredAt?.toISOString() ?? null,
        })),
      };
    },
  );
}

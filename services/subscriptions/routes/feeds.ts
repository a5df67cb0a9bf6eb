import { type FastifyInstance } from 'fastify';
import { type Clock } from '../../platform/clock';
import { sendProblem } from '../../platform/http';
import { type Authenticate, callerOf } from './caller';
import { problemResponses } from '../../platform/problem';
import { inForce } from '../agreement';
import { cloudEventOf } from '../cloud-event';
import { type DerivedContract } from '../derived-schema';
import { type FeedEntry, type FeedStore, feedValue } from '../feed-store';

/** The longest a feed request waits for an entry, in seconds: under common proxies' idle timeouts. */
export const MAX_FEED_WAIT_SECONDS = 25;

/**
 * `GET /v1/feeds/{agreement}?after=<cursor>&limit=&wait=`: the pull feed, for systems behind a
 * firewall that takes no webhook. It answers the entries after `after` (from the start without
 * it), as CloudEvents, with the cursor to ask next with; with none yet, it waits up to `wait`
 * seconds for one (long polling), then answers an empty page with the same cursor. At least once:
 * an entry may come twice (a derivation repeated after a crash), with the same `id`.
 */
export function registerFeedRoutes(
  app: FastifyInstance,
  deps: {
    contracts: () => ReadonlyMap<string, { contract: DerivedContract }>;
    feed: () => FeedStore;
    /** Resolves when the agreement's feed has new entries, or after `ms`. */
    nextEntries: (agreementId: string, ms: number) => Promise<void>;
    clock: Clock;
    authenticate: Authenticate;
  },
): void {
  app.get<{ Params: { agreement: string }; Querystring: { after?: string; limit: number; wait: number } }>(
    '/v1/feeds/:agreement',
    {
      schema: {
        summary: "An agreement's derived events after a cursor, waiting for new ones",
        params: {
          type: 'object',
          required: ['agreement'],
          properties: {
            agreement: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 60 },
          },
        },
        querystring: {
          type: 'object',
          properties: {
            after: {
              type: 'string',
              pattern: '^[0-9]{1,15}$',
              description: 'The cursor a previous page gave',
            },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            wait: { type: 'integer', minimum: 0, maximum: MAX_FEED_WAIT_SECONDS, default: 0 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['events', 'next'],
            properties: {
              events: { type: 'array', items: { type: 'object', additionalProperties: true } },
              next: { type: 'string', description: 'The cursor to ask the next page with' },
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
      const { agreement: id } = request.params;
      const contract = deps.contracts().get(id)?.contract;
      if (!contract || (principal.role !== 'operator' && principal.agency !== contract.agreement.consumer))
        return sendProblem(reply, {
          status: 404,
          title: 'Not Found',
          code: 'NOT_FOUND',
          detail: 'No such agreement for this client',
        });
      // Expiry stops delivery by the feed too, of what was derived before as well.
      if (!inForce(contract.agreement, deps.clock()))
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          code: 'FORBIDDEN',
          detail: 'The agreement is not in force',
        });
      const after = Number(request.query.after ?? '0');
      const deadline = Date.now() + request.query.wait * 1_000;
      let entries: FeedEntry[] = await deps.feed().read(id, after, request.query.limit);
      while (entries.length === 0 && Date.now() < deadline) {
        await deps.nextEntries(id, deadline - Date.now());
        entries = await deps.feed().read(id, after, request.query.limit);
      }
      const events = entries.flatMap((e) => {
        // What the agreement allows now, whatever it allowed when the entry was derived.
        const value = feedValue(e);
        const data = contract.reproject(value);
        return data ? [cloudEventOf(value, e.key, data)] : [];
      });
      return { events, next: String(entries.at(-1)?.seq ?? after) };
    },
  );
}

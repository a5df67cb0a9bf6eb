/**
 * A small webhook receiver, playing an agency's system in the demo and the tests. It verifies
 * every request with `services/subscriptions/webhook-signature.ts`, the very file agencies are
 * given, and applies each `webhook-id` once: a resend is answered 200 and changes nothing.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../services/platform/clock';
import { verifyWebhook, WebhookVerificationError } from '../../services/subscriptions/webhook-signature';

/** A CloudEvent as received, applied once. */
export interface ReceivedEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

export interface DemoReceiver {
  /** Listens on `port` (0 for any) of the loopback; a receiver stopped and started again keeps what it applied. */
  start(port?: number): Promise<string>;
  /** Stops listening: senders meet a refused connection, as when a system is down. */
  stop(): Promise<void>;
  /** The events applied, in the order they were. */
  events(): readonly ReceivedEvent[];
  /** Requests whose webhook-id had been applied already. */
  duplicates(): number;
  /** Why requests were refused, in order. */
  refusals(): readonly string[];
}

export interface DemoReceiverOptions {
  secrets: readonly string[];
  clock?: Clock;
  /** Called for each event applied, once per webhook-id. */
  onEvent?: (event: ReceivedEvent) => Promise<void> | void;
  /**
   * Answers 500 after applying the event whose id it says, once per id: a lost answer, which the
   * sender must repeat and the receiver must not apply twice.
   */
  loseAnswer?: (id: string) => boolean;
}

export function createDemoReceiver(options: DemoReceiverOptions): DemoReceiver {
  const clock = options.clock ?? systemClock;
  const applied = new Set<string>();
  const lost = new Set<string>();
  const events: ReceivedEvent[] = [];
  const refusals: string[] = [];
  let duplicates = 0;
  let server: Server | undefined;

  const bodyOf = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const handle = async (request: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    if (request.method !== 'POST') return { status: 405, body: { code: 'METHOD_NOT_ALLOWED' } };
    const body = await bodyOf(request);
    let id: string;
    try {
      id = verifyWebhook(options.secrets, request.headers, body, Math.floor(clock() / 1000));
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      refusals.push(err.reason);
      return { status: 401, body: { code: err.reason } };
    }
    if (applied.has(id)) {
      duplicates += 1;
      return { status: 200, body: { duplicate: true } };
    }
    const event = JSON.parse(body) as ReceivedEvent;
    await options.onEvent?.(event);
    applied.add(id);
    events.push({ id, type: event.type, subject: event.subject, time: event.time, data: event.data });
    if (options.loseAnswer?.(id) && !lost.has(id)) {
      lost.add(id);
      return { status: 500, body: { code: 'ANSWER_LOST' } };
    }
    return { status: 200, body: { applied: true } };
  };

  return {
    async start(port = 0) {
      const s = createServer((request, response) => {
        handle(request).then(
          ({ status, body }) => {
            response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          },
          () => response.writeHead(500).end(),
        );
      });
      server = s;
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(s.address() as AddressInfo).port}/webhooks/lienthong`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    events: () => events,
    duplicates: () => duplicates,
    refusals: () => refusals,
  };
}

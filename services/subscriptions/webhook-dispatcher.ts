import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Type } from 'avsc';
import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { fromConfluentWire, parseAvroSchema } from '../platform/avro';
import { type BackoffPolicy, backoffDelay } from '../platform/backoff';
import { type Clock } from '../platform/clock';
import { fetchSchemaText } from '../platform/registry-client';
import { inForce } from './agreement';
import { cloudEventOf } from './cloud-event';
import { type DeliveryLog, type DeliveryStatus } from './delivery-log';
import { type DerivedContract, type DerivedValue } from './derived-schema';
import { type AgreementRunner, stopConsumer } from './deriver';
import { type WebhookEndpoint } from './endpoints';
import { signWebhook } from './webhook-signature';

export interface WebhookPolicy {
  /** The waits between tries: doubled from `initialMs` up to `maxMs`, spread by ±20%. */
  backoff: BackoffPolicy;
  /** Tries of one event before it is dead-lettered for its endpoint, and the next one is sent. */
  maxAttempts: number;
  /** How long one POST may take. */
  timeoutMs: number;
}

/** A day of tries at most, every five minutes once the backoff is at its longest. */
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  backoff: { initialMs: 1_000, maxMs: 5 * 60_000 },
  maxAttempts: 300,
  timeoutMs: 10_000,
};

export interface WebhookDispatcherDeps {
  kafka: Kafka;
  registry: SchemaRegistry;
  logger: Logger;
  endpoint: WebhookEndpoint;
  /** The agreement as it is now: what may go out, however old the derived event. */
  contract: DerivedContract;
  derivedTopic: string;
  groupId: string;
  log: DeliveryLog;
  /** The citizens a derived event's source concerns, for its delivery record. */
  citizenIdsOf: (eventId: string) => Promise<string[]>;
  clock: Clock;
  policy: WebhookPolicy;
}

export interface DispatcherStats {
  delivered: number;
  dead: number;
  failedAttempts: number;
}

export type WebhookDispatcher = AgreementRunner<DispatcherStats>;

/**
 * One signed POST of a CloudEvent body to an endpoint; the failure's HTTP status or error code,
 * or undefined when delivered (a 2xx).
 */
export async function postWebhook(
  endpoint: Pick<WebhookEndpoint, 'url' | 'secrets'>,
  body: string,
  id: string,
  clock: Clock,
  timeoutMs: number,
): Promise<string | undefined> {
  const headers = signWebhook(endpoint.secrets, id, Math.floor(clock() / 1000), body);
  try {
    const answer = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await answer.body?.cancel();
    return answer.status >= 200 && answer.status < 300 ? undefined : `HTTP ${answer.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? cause.code : (err as Error).name;
  }
}

/**
 * Sends one subscription's events to its endpoint: a consumer group of its own over the
 * agreement's derived topic, each partition's events one at a time and in order, so one entity's
 * events arrive in the order they happened. Each is a signed POST ({@link signWebhook}) of a
 * CloudEvent; a 2xx answer delivers it, anything else is tried again after an exponential backoff,
 * up to `maxAttempts`, after which it is dead-lettered for this endpoint (`status: dead` in the
 * delivery log) and the partition moves on. Every outcome is in the delivery log before the offset
 * is resolved. At least once: a crash before the commit sends again, with the same `webhook-id`.
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const { endpoint, contract, logger } = deps;
  const { agreement } = contract;
  const stats: DispatcherStats = { delivered: 0, dead: 0, failedAttempts: 0 };
  const writers = new Map<number, Promise<Type>>();
  let consumer: Consumer | undefined;

  /** A derived message decoded with its writer schema, from the registry once per id. */
  const decode = async (value: Buffer): Promise<DerivedValue> => {
    const { schemaId, payload } = fromConfluentWire(value);
    let writer = writers.get(schemaId);
    if (!writer) {
      writer = fetchSchemaText(deps.registry, schemaId).then((text) => parseAvroSchema(text));
      writers.set(schemaId, writer);
      writer.catch(() => writers.delete(schemaId));
    }
    return (await writer).fromBuffer(payload) as DerivedValue;
  };

  const post = (body: string, id: string): Promise<string | undefined> =>
    postWebhook(endpoint, body, id, deps.clock, deps.policy.timeoutMs);

  return {
    async start() {
      const c = deps.kafka.consumer({ groupId: deps.groupId, allowAutoTopicCreation: false });
      consumer = c;
      await c.connect();
      await c.subscribe({ topic: deps.derivedTopic, fromBeginning: true });
      await c.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 6,
        eachBatch: async ({
          batch,
          resolveOffset,
          heartbeat,
          isRunning,
          isStale,
          pause,
          commitOffsetsIfNecessary,
        }) => {
          /** Waits `ms`, heartbeating, and says whether to go on. */
          const wait = async (ms: number): Promise<boolean> => {
            for (let left = ms; left > 0 && isRunning() && !isStale(); left -= 1_000) {
              await new Promise((r) => setTimeout(r, Math.min(left, 1_000)));
              await heartbeat();
            }
            return isRunning() && !isStale();
          };
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) return;
            const value = message.value ? await decode(message.value) : undefined;
            const data = value && contract.reproject(value);
            if (value && data) {
              const body = JSON.stringify(cloudEventOf(value, message.key?.toString() ?? '', data));
              const base = {
                _id: `${endpoint.id}/${value.eventId}`,
                subscriptionId: endpoint.id,
                channel: 'webhook' as const,
                agreementId: agreement.id,
                agreementVersion: agreement.version,
                consumer: agreement.consumer,
                eventId: value.eventId,
                eventType: value.eventType,
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                citizenIds: await deps.citizenIdsOf(value.eventId),
              };
              for (let attempt = 1; ; attempt += 1) {
                if (!inForce(agreement, deps.clock())) {
                  pause();
                  return;
                }
                const error = await post(body, value.eventId);
                const now = new Date(deps.clock());
                const status: DeliveryStatus =
                  error === undefined
                    ? 'delivered'
                    : attempt >= deps.policy.maxAttempts
                      ? 'dead'
                      : 'retrying';
                await deps.log.record(
                  {
                    ...base,
                    status,
                    lastError: error ?? null,
                    lastAttemptAt: now,
                    deliveredAt: status === 'delivered' ? now : null,
                  },
                  attempt,
                );
                if (status === 'delivered') stats.delivered += 1;
                if (status === 'dead') {
                  stats.dead += 1;
                  logger.warn({ subscription: endpoint.id, eventId: value.eventId, error }, 'Dead-lettered');
                }
                if (status !== 'retrying') break;
                stats.failedAttempts += 1;
                if (!(await wait(backoffDelay(attempt, deps.policy.backoff)))) return;
              }
            }
            resolveOffset(message.offset);
            await commitOffsetsIfNecessary();
            // A batch of many events takes long: the group must keep hearing from this member.
            await heartbeat();
          }
        },
      });
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      await stopConsumer(c);
    },
    stats: () => ({ ...stats }),
  };
}

import {
  type Admin,
  type ICustomPartitioner,
  type IResourceConfigEntry,
  type ISocketFactory,
  Kafka,
  Partitioners,
  type Producer,
  type ProducerBatch,
  type RecordMetadata,
  type RetryOptions,
  type TopicMessages,
} from 'kafkajs';
import { type Logger } from 'pino';
import { ERROR_CODES, isRetriable, LienthongError, UnavailableError } from './errors';
import { createLogger, kafkaLogCreator, toKafkaLogLevel } from './logger';
import { type KafkaSecurity, kafkajsSecurityOptions } from './kafka-security';
import { settleAll } from './settle';
import { fixRequestQueueSchedule } from './kafkajs-request-queue';

// Before any client connects: kafkajs's connections otherwise poll themselves every millisecond.
fixRequestQueueSchedule();

/**
 * `acks` for `producer.send()`: -1 means "all in-sync replicas", kafkajs's spelling of the Java
 * client's `acks=all`. kafkajs sets acks per send, not per producer; its idempotent producer
 * already refuses any other value, and passing it explicitly documents the guarantee at the call.
 *
 * @see https://kafka.js.org/docs/producing#options
 */
export const ACKS_ALL = -1;

export interface CreateKafkaOptions {
  brokers: string[];
  clientId: string;
  /** TLS and the SCRAM principal, from `kafkaSecurityFrom`; `PLAINTEXT` must be asked for. */
  security: KafkaSecurity;
  /** kafkajs logs through a child of this logger, at the level it has. */
  logger: Logger;
  /** Milliseconds to wait for a TCP connection to a broker; kafkajs's default is 1000. */
  connectionTimeout?: number;
  /** The client-wide retry policy; producers and consumers inherit it. */
  retry?: RetryOptions;
  /**
   * Opens the client's connections instead of kafkajs's own factory: tests route a client through
   * a proxy this way (`test/support/kafka-proxy.ts`), with the broker unchanged.
   */
  socketFactory?: ISocketFactory;
}

/**
 * A kafkajs client logging through pino, with the TLS and SASL options of `security`. It opens no
 * connection until a client connects.
 */
export function createKafka(options: CreateKafkaOptions): Kafka {
  return new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    logLevel: toKafkaLogLevel(options.logger.level),
    logCreator: kafkaLogCreator(options.logger),
    ...kafkajsSecurityOptions(options.security),
    ...(options.connectionTimeout === undefined ? {} : { connectionTimeout: options.connectionTimeout }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.socketFactory === undefined ? {} : { socketFactory: options.socketFactory }),
  });
}

/**
 * Runs `use` with an admin client of its own on `brokers` and disconnects it whatever happens:
 * for the stack's one-off tools (waiting for a consumer group, reconciling topics), whose
 * kafkajs logs would only repeat the errors they report themselves.
 */
export async function withAdmin<T>(
  connection: { brokers: string[]; security: KafkaSecurity },
  clientId: string,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const kafka = createKafka({
    ...connection,
    clientId,
    logger: createLogger({ name: clientId, level: 'silent' }),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A partition's key in the maps below: `<topic>/<partition>`. */
export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`;

/** Each partition's end offset (the next message's), by {@link partitionKey}. */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic))
      out.set(partitionKey(topic, p.partition), Number(p.high));
  }
  return out;
}

/** The offsets `groupId` has committed on each partition of `topics` (0 for none), by {@link partitionKey}. */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of partitions) out.set(partitionKey(topic, p.partition), Math.max(0, Number(p.offset)));
  }
  return out;
}

export interface CreateProducerOptions {
  /**
   * Overrides the client's retry policy for sends. kafkajs refuses an idempotent producer with
   * `retries < 1`, and warns when retries are limited; a bounded retry is still what a connector
   * wants, so that a send fails (and the agency gets 503) rather than waiting forever.
   */
  retry?: RetryOptions;
  /** kafkajs's Java-compatible murmur2 partitioner by default, so keys land where Java puts them. */
  createPartitioner?: ICustomPartitioner;
  /** Off by default: topics are governed and created by {@link ensureTopics}, not by a typo. */
  allowAutoTopicCreation?: boolean;
}

/**
 * An idempotent producer: the broker drops a batch it has already written, so kafkajs's retries
 * cannot duplicate or reorder records of a partition. kafkajs's rules for it, followed here:
 * - `idempotent: true` needs `acks: -1` on every send ({@link ACKS_ALL}; other values throw);
 * - retries must be at least 1 (kafkajs throws otherwise);
 * - one request in flight per broker connection (`maxInFlightRequests: 1`), as KIP-98 required
 *   when kafkajs implemented idempotence: its sequence numbers are tracked per partition on the
 *   client, and a second request in flight behind a failed one would be out of sequence.
 *
 * Call `connect()` before sending and `disconnect()` in the service's stop.
 *
 * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-98+-+Exactly+Once+Delivery+and+Transactional+Messaging
 */
export function createProducer(kafka: Kafka, options: CreateProducerOptions = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: options.createPartitioner ?? Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
}

/**
 * kafkajs retry options for an idempotent producer's sends: a send retries through a short outage
 * (a leader election, a broker restart) for about `sendTimeoutMs` and then gives up. Backoffs are
 * capped at one second, so a send still retrying when Kafka comes back succeeds soon.
 *
 * Give the Kafka client short connection retries as well (the connectors' `connectionRetryOptions`):
 * every producer retry reconnects under the client's policy, so the two multiply. kafkajs warns
 * that limiting an idempotent producer's retries "may invalidate EoS guarantees": a batch may be
 * written although its send failed, and kafkajs then rolls its sequence numbers back. That is why
 * {@link createRenewingProducer} never sends through a producer again after a failed send.
 *
 * @see https://kafka.js.org/docs/retry-detailed
 */
export function sendRetryOptions(sendTimeoutMs: number): RetryOptions {
  const initialRetryTime = 100;
  const maxRetryTime = 1000;
  let retries = 0;
  // kafkajs's delays double from initialRetryTime up to maxRetryTime; retry for about sendTimeoutMs.
  for (let waited = 0, delay = initialRetryTime; waited < sendTimeoutMs; retries += 1) {
    waited += delay;
    delay = Math.min(delay * 2, maxRetryTime);
  }
  return { initialRetryTime, maxRetryTime, multiplier: 2, factor: 0.2, retries: Math.max(retries, 1) };
}

/** How long a renewing producer's send may take by default before its outcome counts as unknown. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/**
 * Broker answers that mean the idempotent producer's identity or sequence numbers no longer match
 * the broker's. kafkajs marks them non-retriable; a new producer gets through, so the send is
 * answered as retriable.
 */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** Whether a failed send may succeed when sent again: a retriable or producer-state link in its `cause` chain. */
function worthResending(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (isRetriable(e) || PRODUCER_STATE_ERRORS.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}

/** An idempotent producer that never sends through a producer id whose sequence numbers are in doubt. */
export interface RenewingProducer {
  /**
   * Connects a producer. On failure it rejects, and leaves nothing behind: the next send connects
   * a new producer, so a broker unreachable at start costs a 503, not a restart.
   */
  connect(): Promise<void>;
  /** Disconnects every producer it made; sends reject until `connect()` is called again. */
  disconnect(): Promise<void>;
  /**
   * kafkajs's `sendBatch`, one at a time, for messages that each name their partition. Rejects
   * with a retriable `KAFKA_UNAVAILABLE` when the outcome is unknown (some partitions' records may
   * have been written); with kafkajs's error when the broker refused it for good (authorization,
   * size). The answer has one entry a partition, in no particular order.
   */
  sendBatch: Producer['sendBatch'];
}

export interface CreateRenewingProducerOptions extends CreateProducerOptions {
  logger: Logger;
  /**
   * How long one send may take, kafkajs's retries included, before it is given up; also the
   * broker's wait for the in-sync replicas when a send names none. {@link DEFAULT_SEND_TIMEOUT_MS}
   * by default. Retries are bounded by it too ({@link sendRetryOptions}) unless `retry` is given.
   */
  sendTimeoutMs?: number;
}

/**
 * {@link createProducer}, replaced by a new producer (a new producer id) after any send that did
 * not succeed, so that no record is ever acknowledged at another record's offset.
 *
 * Why: kafkajs numbers an idempotent producer's batches per partition, and when a send fails it
 * rolls the partition's sequence number back. If the batch had been written and only its answer
 * lost (a connection reset, a request timeout, the broker's own `REQUEST_TIMED_OUT`), the next
 * batch reuses those numbers: the broker takes it for a duplicate of the written one and answers
 * with the old batch's offsets when it holds as many records, or `OUT_OF_ORDER_SEQUENCE_NUMBER`
 * otherwise. The records of the first case are lost although their sender got 200. A new producer
 * id has sequence numbers of its own, so nothing sent through it can match a batch written before.
 *
 * kafkajs's own retries inside one send stay: they resend the same batch with the same numbers,
 * which the broker deduplicates and answers with the offsets it first gave (KIP-98). What is given
 * up is only the numbering after the send has ended in doubt, and the failed send rejects with a
 * retriable `KAFKA_UNAVAILABLE` so that its sender (an agency after a 503, the audit relay, the
 * sharing service's dead letters) sends again, which `eventId` makes harmless.
 *
 * Also:
 * - each partition's messages go as a kafkajs send of their own, side by side, so every message
 *   must name its partition. kafkajs sends one request a leader, and when one of them fails it
 *   retries at once, while another may still be in flight: that retry waits for the broker's lock
 *   and, once the first request has been answered, sends the same records again under new
 *   sequence numbers, which the broker writes a second time. With one partition a send, a retry
 *   starts only after the request it repeats has settled
 *   (`test/faults/multi-broker-send.test.ts` shows both on three brokers);
 * - one send at a time: a second send through the same producer while one fails would take the
 *   numbers the first rolls back;
 * - a send longer than `sendTimeoutMs` is given up the same way, so a broker that holds a request
 *   without answering costs one timeout, not kafkajs's request timeout times its retries; the
 *   abandoned producer is disconnected, and again once its send has settled;
 * - a producer whose `connect()` failed is never used: kafkajs would leave it "connected" without
 *   a producer id, sending without idempotence.
 *
 * What it cannot do is fence the producer it gave up: kafkajs has no epoch bump (KIP-360), so a
 * batch given up at the timeout may still be written later, after batches acknowledged since. It
 * was never acknowledged; its resend is a duplicate `eventId`.
 *
 * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-98+-+Exactly+Once+Delivery+and+Transactional+Messaging
 * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-360%3A+Improve+reliability+of+idempotent%2Ftransactional+producer
 */
export function createRenewingProducer(
  kafka: Kafka,
  options: CreateRenewingProducerOptions,
): RenewingProducer {
  const { logger } = options;
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const producerOptions: CreateProducerOptions = {
    ...options,
    retry: options.retry ?? sendRetryOptions(sendTimeoutMs),
  };
  let current: { producer: Producer; ready: Promise<void> } | undefined;
  let open = false;
  /** The sends, chained so that one starts when the previous has settled. */
  let queue: Promise<unknown> = Promise.resolve();
  const retiring = new Set<Promise<void>>();

  /** Nothing is sent through `producer` any more; it is disconnected, and again after `pending`. */
  const retire = (producer: Producer, pending?: Promise<unknown>): void => {
    const done = (async () => {
      await producer.disconnect().catch(() => undefined);
      if (pending === undefined) return;
      // kafkajs reconnects a producer whose send is still retrying: close what it reopened.
      await pending.catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    })();
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };

  const connected = async (): Promise<Producer> => {
    if (!open)
      throw new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, 'The Kafka producer is not connected');
    if (current === undefined) {
      const producer = createProducer(kafka, producerOptions);
      const generation = { producer, ready: producer.connect() };
      current = generation;
      generation.ready.catch((error: unknown) => {
        logger.warn({ err: error }, 'Could not connect a producer to Kafka; the next send tries a new one');
        if (current === generation) current = undefined;
        retire(producer);
      });
    }
    const { producer, ready } = current;
    try {
      await ready;
    } catch (error) {
      throw new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, 'Could not connect a producer to Kafka', {
        cause: error,
      });
    }
    return producer;
  };

  const sendOnce = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    const parts = byPartition(batch);
    const producer = await connected();
    const sending = settleAll(
      parts.map((part) => producer.sendBatch({ timeout: sendTimeoutMs, ...batch, topicMessages: [part] })),
    ).then((sent) => sent.flat());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              ERROR_CODES.KAFKA_UNAVAILABLE,
              `Kafka did not answer within ${sendTimeoutMs} ms`,
            ),
          ),
        sendTimeoutMs,
      );
    });
    try {
      return await Promise.race([sending, deadline]);
    } catch (error) {
      if (current?.producer === producer) current = undefined;
      retire(producer, sending);
      logger.warn(
        { err: error },
        'A send to Kafka failed or timed out; the next goes through a new producer',
      );
      if (!worthResending(error)) throw error;
      throw new UnavailableError(
        ERROR_CODES.KAFKA_UNAVAILABLE,
        'Kafka did not acknowledge the records; send them again',
        {
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async connect() {
      open = true;
      await connected();
    },
    async disconnect() {
      open = false;
      const last = current;
      current = undefined;
      if (last !== undefined) retire(last.producer);
      // kafkajs's disconnect waits for requests in flight; one given up may wait for kafkajs's
      // request timeout, and a stopping service does not wait that long for it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...retiring]),
        new Promise((resolve) => (timer = setTimeout(resolve, sendTimeoutMs).unref())),
      ]);
      clearTimeout(timer);
    },
    sendBatch(batch) {
      const sent = queue.then(() => sendOnce(batch));
      queue = sent.catch(() => undefined);
      return sent;
    },
  };
}

/**
 * A batch as one `TopicMessages` a partition, for {@link createRenewingProducer}. A message without
 * a partition is a defect of its sender: kafkajs would pick one, and could then put two partitions
 * led by two brokers into one send.
 */
function byPartition(batch: ProducerBatch): TopicMessages[] {
  const parts = new Map<string, TopicMessages>();
  for (const { topic, messages } of batch.topicMessages ?? []) {
    for (const message of messages) {
      if (!Number.isInteger(message.partition))
        throw new LienthongError(ERROR_CODES.INTERNAL, `A message for ${topic} names no partition`, {
          statusCode: 500,
        });
      const slot = `${topic}/${String(message.partition)}`;
      let part = parts.get(slot);
      if (part === undefined) parts.set(slot, (part = { topic, messages: [] }));
      part.messages.push(message);
    }
  }
  return [...parts.values()];
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** The broker's `default.replication.factor` when not given. */
  replicationFactor?: number;
  configEntries?: IResourceConfigEntry[];
}

/**
 * Creates the topics that do not exist yet and leaves the others alone, so it can run at every
 * start. Two processes racing to create the same topic both succeed: kafkajs answers `false`
 * instead of throwing when every requested topic already exists. Existing topics are not
 * altered, even if their partition count differs from the spec.
 *
 * @param settleMs how long a refused creation waits for the topics to show up, on a cluster whose
 *   broker that answered the listing had not yet learnt of topics the operator just created
 * @returns the names of the topics this call created
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  settleMs = 3_000,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((spec) => !existing.has(spec.topic));
  if (missing.length === 0) return [];
  let created: boolean;
  try {
    created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.numPartitions,
        ...(spec.replicationFactor === undefined ? {} : { replicationFactor: spec.replicationFactor }),
        ...(spec.configEntries === undefined ? {} : { configEntries: spec.configEntries }),
      })),
    });
  } catch (error) {
    // A service's principal may not create topics: the operator does (`stack:topics -- --apply`).
    if (isAuthorizationError(error)) {
      if (await appear(admin, missing, settleMs)) return [];
      throw new LienthongError(
        ERROR_CODES.KAFKA_NOT_AUTHORIZED,
        `Topic(s) ${missing.map((s) => s.topic).join(', ')} absent, and this principal may not create them: the operator creates topics (npm run stack:topics -- --apply)`,
        { cause: error },
      );
    }
    // On a KRaft cluster of several nodes kafkajs asks any broker for the new topics' leaders, and
    // waits out only LEADER_NOT_AVAILABLE: a broker whose metadata lags says the topic is unknown,
    // although the controller has made it. The topics exist; wait for their leaders here.
    if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
    await waitForLeaders(
      admin,
      missing.map((spec) => spec.topic),
    );
    created = true;
  }
  return created ? missing.map((spec) => spec.topic) : [];
}

/** Whether every topic of `topics` is listed within `timeoutMs`, reading every 200 ms. */
async function appear(admin: Admin, topics: readonly TopicSpec[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = new Set(await admin.listTopics());
    if (topics.every((spec) => listed.has(spec.topic))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls the metadata until every partition of `topics` has a leader, for up to `timeoutMs`. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
    if (metadata?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
      return;
    if (Date.now() > deadline)
      throw new UnavailableError(
        'KAFKA_UNAVAILABLE',
        `The leaders of ${topics.join(', ')} were not elected in time`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Whether a kafkajs error, or one it aggregates or wraps, is an ACL refusal
 * (`TOPIC_AUTHORIZATION_FAILED`, `CLUSTER_AUTHORIZATION_FAILED`, `GROUP_AUTHORIZATION_FAILED`...).
 */
export function isAuthorizationError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const e = error as { type?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.type === 'string' && e.type.endsWith('_AUTHORIZATION_FAILED')) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isAuthorizationError(inner, depth + 1)))
    return true;
  return e.cause !== undefined && e.cause !== error && isAuthorizationError(e.cause, depth + 1);
}

/** Tries of a service's topic set-up at start: about 20 s in all on a broker that has just started. */
const TOPIC_SETUP_ATTEMPTS = 8;

/**
 * Runs a service's topic set-up at start, and again, waiting longer each time, while it fails for
 * what a moment cures:
 * - a broker that has just started, or topics created a moment ago that a broker's metadata does
 *   not hold yet ("does not host this topic-partition");
 * - ACLs granted a moment ago that a broker has not applied yet (`*_AUTHORIZATION_FAILED`): each
 *   broker applies them from the metadata log on its own time, and Strimzi's User Operator grants
 *   them beside the pods that need them. A refusal that lasts past the tries is thrown.
 */
export async function setUpTopics<T>(work: () => Promise<T>, logger: Logger): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (err) {
      // A verdict this code made is final: KAFKA_NOT_AUTHORIZED for an absent topic, for one.
      const passing = isRetriable(err) || (isAuthorizationError(err) && !(err instanceof LienthongError));
      if (!passing || attempt >= TOPIC_SETUP_ATTEMPTS) throw err;
      logger.warn({ err, attempt }, 'The topics are not ready yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

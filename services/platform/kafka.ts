import {
  type Admin,
  type ICustomPartitioner,
  type IResourceConfigEntry,
  Kafka,
  Partitioners,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import { type Logger } from 'pino';
import { UnavailableError } from './errors';
import { createLogger, kafkaLogCreator, toKafkaLogLevel } from './logger';
import { parseBrokers } from './config';

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
  /** kafkajs logs through a child of this logger, at the level it has. */
  logger: Logger;
  /** Milliseconds to wait for a TCP connection to a broker; kafkajs's default is 1000. */
  connectionTimeout?: number;
  /** The client-wide retry policy; producers and consumers inherit it. */
  retry?: RetryOptions;
}

/** A kafkajs client logging through pino. It opens no connection until a client connects. */
export function createKafka(options: CreateKafkaOptions): Kafka {
  return new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    logLevel: toKafkaLogLevel(options.logger.level),
    logCreator: kafkaLogCreator(options.logger),
    ...(options.connectionTimeout === undefined ? {} : { connectionTimeout: options.connectionTimeout }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
}

/**
 * Runs `use` with an admin client of its own on `brokers` and disconnects it whatever happens:
 * for the stack's one-off tools (waiting for a consumer group, reconciling topics), whose
 * kafkajs logs would only repeat the errors they report themselves.
 */
export async function withAdmin<T>(
  brokers: string,
  clientId: string,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const kafka = createKafka({
    brokers: parseBrokers(brokers),
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
 * Broker answers that mean the idempotent producer's identity or sequence numbers no longer match
 * the broker's: typically a batch that was written just before a broker stopped but whose answer
 * never arrived. kafkajs treats them as final and keeps its numbering, so every later send to that
 * partition fails the same way; only a producer with a new producer id gets through.
 */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

function isProducerStateError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (PRODUCER_STATE_ERRORS.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}

/** An idempotent producer that replaces itself when the broker no longer accepts its identity. */
export interface RenewingProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch: Producer['sendBatch'];
}

/**
 * {@link createProducer}, renewed after a producer-state error: the failed send rejects with a
 * retriable `KAFKA_UNAVAILABLE` (the caller answers 503 and the sender resends, which the eventId
 * makes harmless), and the next send goes through a new producer with a new producer id.
 */
export function createRenewingProducer(
  kafka: Kafka,
  options: CreateProducerOptions & { logger: Logger },
): RenewingProducer {
  let current = createProducer(kafka, options);
  let connected = false;
  return {
    async connect() {
      await current.connect();
      connected = true;
    },
    async disconnect() {
      connected = false;
      await current.disconnect();
    },
    async sendBatch(batch) {
      const producer = current;
      try {
        return await producer.sendBatch(batch);
      } catch (error) {
        if (!isProducerStateError(error) || !connected) throw error;
        if (current === producer) {
          options.logger.warn({ err: error }, 'Kafka refused the producer identity; starting a new producer');
          current = createProducer(kafka, options);
          await current.connect();
          void producer.disconnect().catch(() => undefined);
        }
        throw new UnavailableError('KAFKA_UNAVAILABLE', 'Kafka refused the producer identity; send again', {
          cause: error,
        });
      }
    },
  };
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
 * @returns the names of the topics this call created
 */
export async function ensureTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<string[]> {
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

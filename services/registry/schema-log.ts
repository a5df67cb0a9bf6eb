import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { ACKS_ALL, createRenewingProducer, type RenewingProducer } from '../platform/kafka';
import { checkTopics, describeDrift, ensurePolicyTopics, type TopicDrift } from '../platform/topic-policy';
import { UnavailableError } from '../platform/errors';
import { type ApplyOutcome, type LogKey, type LogValue } from './registry-state';

/** Each registry instance reads its log in a group of its own, named by this prefix (the ACLs grant it). */
export const REGISTRY_GROUP_PREFIX = 'lienthong-registry-';
export interface SchemaLogOptions {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  /** Applies one record to the state, in log order; returns whether it took effect. */
  apply: (key: LogKey, value: LogValue) => ApplyOutcome;
  /** How long a write or a catch-up may wait for the log; then the request answers 503. */
  timeoutMs?: number;
}

interface Waiter {
  offset: bigint;
  resolve: () => void;
}

/**
 * The registry's durable state: one compacted, single-partition Kafka topic, as Confluent's
 * `_schemas`. Every instance reads it from the beginning into memory and keeps following it;
 * a write is answered only once this instance has read it back, so a client that registered a
 * schema can read it at once, from this instance.
 */
export class SchemaLog {
  private readonly producer: RenewingProducer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly outcomes = new Map<bigint, ApplyOutcome>();
  private waiters: Waiter[] = [];
  /** The offset of the last record applied; -1 before the first. */
  private appliedOffset = -1n;
  private readonly timeoutMs: number;
  private kafkaClusterId = '';
  private topicDrift: readonly TopicDrift[] = [];

  constructor(private readonly options: SchemaLogOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    // A write answered at another record's offset would report that record's outcome: the
    // renewing producer never reuses the numbering of a write left in doubt.
    this.producer = createRenewingProducer(options.kafka, {
      logger: options.logger,
      sendTimeoutMs: this.timeoutMs,
    });
    this.admin = options.kafka.admin();
    // A group of its own that never commits: every start reads the whole log again. A fetch is
    // answered as soon as a record arrives, so its longest wait delays no read-back; it bounds the
    // stop (which waits for the fetch in flight) and sets how often an idle registry fetches: once
    // a second, where 100 ms made it ten times.
    this.consumer = options.kafka.consumer({
      groupId: `${REGISTRY_GROUP_PREFIX}${randomUUID()}`,
      maxWaitTimeInMs: 1_000,
    });
  }

  /** Creates the topic if needed, then reads the log to its end. */
  async start(): Promise<void> {
    const { topic } = this.options;
    await this.admin.connect();
    const declared = [{ topic, kind: 'registry-state', numPartitions: 1 }] as const;
    await ensurePolicyTopics(this.admin, declared);
    this.topicDrift = await checkTopics(this.admin, declared);
    for (const d of this.topicDrift) this.options.logger.error({ drift: d }, describeDrift(d));
    this.kafkaClusterId = (await this.admin.describeCluster()).clusterId;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => this.onRecord(message.offset, message.key, message.value),
    });
    await this.catchUp(60_000);
  }

  /** How the state topic differs from the topic policy, as found at start. */
  drift(): readonly TopicDrift[] {
    return this.topicDrift;
  }

  /** The id of the Kafka cluster that holds the log, once started. */
  clusterId(): string {
    return this.kafkaClusterId;
  }

  /** Stops following the log: consumer first, so that nothing applies after the producer is gone. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.admin.disconnect();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  /** Waits until every record written before this call has been applied here. */
  async catchUp(timeoutMs = this.timeoutMs): Promise<void> {
    const [partition] = await this.admin.fetchTopicOffsets(this.options.topic);
    const end = BigInt(partition?.high ?? '0');
    await this.waitFor(end - 1n, timeoutMs);
  }

  /** Appends a record and waits until it is read back; tells whether it took effect. */
  async append(key: LogKey, value: LogValue): Promise<ApplyOutcome> {
    const [metadata] = await this.producer.sendBatch({
      acks: ACKS_ALL,
      topicMessages: [
        {
          topic: this.options.topic,
          // The log is one partition: its order is the registry's order.
          messages: [
            { key: JSON.stringify(key), value: value === null ? null : JSON.stringify(value), partition: 0 },
          ],
        },
      ],
    });
    if (!metadata?.baseOffset) throw new UnavailableError('KAFKA_UNAVAILABLE', 'Kafka returned no offset');
    const offset = BigInt(metadata.baseOffset);
    await this.waitFor(offset, this.timeoutMs);
    const outcome = this.outcomes.get(offset) ?? 'ignored';
    this.outcomes.delete(offset);
    return outcome;
  }

  private onRecord(offset: string, key: Buffer | null, value: Buffer | null): void {
    const at = BigInt(offset);
    let outcome: ApplyOutcome = 'ignored';
    try {
      if (key)
        outcome = this.options.apply(
          JSON.parse(key.toString()) as LogKey,
          value && JSON.parse(value.toString()),
        );
    } catch (error) {
      // A record this code cannot read is skipped, never fatal: the log is shared with other versions.
      this.options.logger.warn({ err: error, offset }, 'Skipped an unreadable schema log record');
    }
    // Outcomes are kept only while someone may wait for them: our own writes, read back soon after.
    if (this.outcomes.size >= 1_000) this.outcomes.delete(this.outcomes.keys().next().value as bigint);
    this.outcomes.set(at, outcome);
    this.appliedOffset = at;
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.offset > at) return true;
      waiter.resolve();
      return false;
    });
  }

  private waitFor(offset: bigint, timeoutMs: number): Promise<void> {
    if (offset <= this.appliedOffset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new UnavailableError(
            'KAFKA_UNAVAILABLE',
            `The schema log was not read up to offset ${offset} in time`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }
}

import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { type QuarantineIndex } from './quarantine-index';
import { readQuarantineMessage } from './quarantine';

/** How long a request waits for the index to catch up with the topic before answering 503. */
export const QUARANTINE_CATCH_UP_WAIT_MS = 10_000;

export interface QuarantineFollower {
  start(): Promise<void>;
  /**
   * Resolves true once the index holds everything the topic held when the follower started, or
   * false when that takes longer than `waitMs`.
   */
  caughtUp(waitMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Feeds a connector's quarantine index from its topic: a consumer in a group of its own (`groupId`
 * ends with a fresh UUID), from the beginning, with nothing committed, so every start reads the
 * whole topic again. The group is deleted at stop, so restarts leave no groups behind.
 *
 * Why the topic and not a store collection: the topic is already where a refusal is acknowledged
 * before the agency gets its answer, and its 30-day retention is the quarantine's; a second copy
 * would be a second write that can fail or drift, and a store the connectors do not otherwise need.
 */
export function followQuarantine(options: {
  kafka: Kafka;
  admin: Pick<Admin, 'fetchTopicOffsets' | 'deleteGroups'>;
  topic: string;
  groupPrefix: string;
  index: QuarantineIndex;
  logger: Logger;
}): QuarantineFollower {
  const { index, logger, topic } = options;
  const groupId = `${options.groupPrefix}${randomUUID()}`;
  let consumer: Consumer | undefined;
  // The next offset to read, per partition, to reach what the topic held at start.
  const remaining = new Map<number, bigint>();
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  const settle = () => {
    if (remaining.size === 0) markCaughtUp();
  };

  return {
    async start() {
      for (const p of await options.admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high));
      }
      settle();
      consumer = options.kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const read = readQuarantineMessage(message);
          if (read === undefined) {
            logger.warn({ topic, partition, offset: message.offset }, 'Not a quarantine record; skipped');
          } else if ('refusal' in read) {
            index.add({ topic, partition, offset: message.offset }, read.refusal);
          } else {
            index.resolve(read.resolution);
          }
          const end = remaining.get(partition);
          if (end !== undefined && BigInt(message.offset) + 1n >= end) {
            remaining.delete(partition);
            settle();
          }
        },
      });
    },

    async caughtUp(waitMs = QUARANTINE_CATCH_UP_WAIT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      });
      try {
        return await Promise.race([caughtUp.then(() => true), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async stop() {
      if (!consumer) return;
      await consumer.disconnect().catch(() => undefined);
      consumer = undefined;
      await options.admin.deleteGroups([groupId]).catch((err: unknown) => {
        logger.warn({ err, groupId }, 'Could not delete the quarantine group');
      });
    },
  };
}

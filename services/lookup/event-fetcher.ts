import { randomUUID } from 'node:crypto';
import { type Kafka, type KafkaMessage } from 'kafkajs';

/** Where an event sits in Kafka. */

/** Lineage reads in short-lived groups, named by this prefix (the ACLs grant it). */
export const LINEAGE_GROUP_PREFIX = 'lienthong-lineage-';
export interface EventCoordinates {
  topic: string;
  partition: number;
  /** int64 offset, as the decimal string kafkajs uses. */
  offset: string;
}

export const coordinatesKey = (c: EventCoordinates): string => `${c.topic}/${c.partition}/${c.offset}`;

/**
 * Reads the messages at the given coordinates, for lineage. kafkajs has no "fetch one offset"
 * call, so a short-lived consumer in a group of its own seeks each partition to the first offset
 * wanted, takes what it finds, and seeks on to the next one; partitions with nothing more to find
 * are paused. The group is deleted afterwards so audits leave no consumer groups behind.
 *
 * An offset that no longer exists (retention, compaction) comes back missing, as does everything
 * not found within `timeoutMs`.
 */
export async function fetchMessages(
  kafka: Kafka,
  wanted: readonly EventCoordinates[],
  timeoutMs: number,
): Promise<Map<string, KafkaMessage>> {
  const found = new Map<string, KafkaMessage>();
  // Offsets still wanted, per topic and partition, in ascending order.
  const queue = new Map<string, bigint[]>();
  for (const c of new Map(wanted.map((w) => [coordinatesKey(w), w])).values()) {
    const key = `${c.topic}/${c.partition}`;
    const offsets = queue.get(key) ?? [];
    offsets.push(BigInt(c.offset));
    queue.set(key, offsets);
  }
  for (const offsets of queue.values()) offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (queue.size === 0) return found;

  const groupId = `${LINEAGE_GROUP_PREFIX}${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const admin = kafka.admin();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = setTimeout(() => finish(), timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(wanted.map((c) => c.topic))], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const offsets = queue.get(key);
        if (!offsets) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          // Offsets passed without a message were compacted or expired: give up on them.
          while (offsets.length > 0 && (offsets[0] as bigint) < offset) offsets.shift();
          if (offsets[0] === offset) {
            found.set(`${key}/${message.offset}`, message);
            offsets.shift();
          }
        }
        const next = offsets[0];
        if (next === undefined) {
          queue.delete(key);
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        } else if (next > BigInt(batch.lastOffset()) + 1n) {
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: next.toString() });
        }
        if (queue.size === 0) finish();
      },
    });
    for (const [key, offsets] of queue) {
      const [topic, partition] = splitKey(key);
      consumer.seek({ topic, partition, offset: (offsets[0] as bigint).toString() });
    }
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
  return found;
}

function splitKey(key: string): [string, number] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), Number(key.slice(slash + 1))];
}

/** A partition read from its start up to `to`, inclusive. */
export interface PartitionRead {
  topic: string;
  partition: number;
  /** The first offset the partition still holds: above 0 when retention removed its start. */
  start: string;
  /** The messages from `start` to `to`, in offset order. */
  messages: KafkaMessage[];
  /** Whether the read reached `to` before the timeout. */
  complete: boolean;
}

/**
 * Reads each partition from its first offset up to `to`, for the replay that reconstructs an
 * answer: the events a section depends on all sit in the partition of its own event, at lower
 * offsets (one aggregate's events share a key, hence a partition). A short-lived consumer in a
 * group of its own, deleted afterwards, as for {@link fetchMessages}.
 */
export async function readPartitions(
  kafka: Kafka,
  wanted: readonly EventCoordinates[],
  timeoutMs: number,
): Promise<PartitionRead[]> {
  const bounds = new Map<string, { topic: string; partition: number; to: bigint }>();
  for (const c of wanted) {
    const key = `${c.topic}/${c.partition}`;
    const to = BigInt(c.offset);
    const known = bounds.get(key);
    if (!known || known.to < to) bounds.set(key, { topic: c.topic, partition: c.partition, to });
  }
  const reads = new Map<string, PartitionRead>();
  if (bounds.size === 0) return [];
  const admin = kafka.admin();
  const groupId = `${LINEAGE_GROUP_PREFIX}${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const pending = new Set(bounds.keys());
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = setTimeout(() => finish(), timeoutMs);
  try {
    await admin.connect();
    for (const topic of new Set([...bounds.values()].map((b) => b.topic))) {
      // A topic deleted since has no offsets: its partitions are left out of the answer.
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      for (const key of pending) if (key.startsWith(`${topic}/`) && !offsets.length) pending.delete(key);
      for (const { partition, low, high } of offsets) {
        const bound = bounds.get(`${topic}/${partition}`);
        if (!bound) continue;
        reads.set(`${topic}/${partition}`, { topic, partition, start: low, messages: [], complete: false });
        // An offset beyond the partition's end is never reached: read up to the end only.
        if (BigInt(high) - 1n < bound.to) bound.to = BigInt(high) - 1n;
        // Nothing to read: the offsets wanted are all below the partition's start.
        if (BigInt(low) > bound.to) pending.delete(`${topic}/${partition}`);
      }
    }
    if (pending.size > 0) {
      await consumer.connect();
      await consumer.subscribe({ topics: [...new Set([...pending].map((key) => splitKey(key)[0]))] });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const key = `${batch.topic}/${batch.partition}`;
          const bound = bounds.get(key);
          const read = reads.get(key);
          if (!bound || !read || !pending.has(key)) {
            consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
            return;
          }
          for (const message of batch.messages) {
            if (BigInt(message.offset) > bound.to) break;
            read.messages.push(message);
          }
          if (
            BigInt(batch.lastOffset()) >= bound.to ||
            read.messages.at(-1)?.offset === bound.to.toString()
          ) {
            pending.delete(key);
            consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          }
          if (pending.size === 0) finish();
        },
      });
      for (const key of pending) {
        const [topic, partition] = splitKey(key);
        consumer.seek({ topic, partition, offset: reads.get(key)?.start ?? '0' });
      }
      await done;
    }
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin
      .deleteGroups([groupId])
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
  for (const [key, read] of reads) read.complete = !pending.has(key);
  return [...reads.values()];
}

import { type Consumer, type Kafka } from 'kafkajs';
import { uniqueName } from './fixtures';

export interface ReceivedMessage {
  key: string | undefined;
  value: string | undefined;
  /** The value's bytes, for binary (Avro) payloads. */
  rawValue: Buffer | null;
  partition: number;
  offset: string;
  headers: Record<string, string | undefined>;
}

/**
 * Subscribes `consumer` to `topic`, collects exactly `count` messages and commits the offsets
 * after the last of them, per partition; messages fetched beyond `count` are neither collected
 * nor committed. Fails after `timeoutMs`, naming how many came. The consumer is left connected.
 */
export async function consumeUntil(
  consumer: Consumer,
  topic: string,
  count: number,
  { fromBeginning = true, timeoutMs = 60_000 } = {},
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  const next = new Map<number, string>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${received.length} of ${count} messages from ${topic}`)),
      timeoutMs,
    );
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (received.length >= count) return;
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(message.headers ?? {}))
            headers[name] = value?.toString();
          received.push({
            key: message.key?.toString(),
            value: message.value?.toString(),
            rawValue: message.value,
            partition,
            offset: message.offset,
            headers,
          });
          next.set(partition, String(BigInt(message.offset) + 1n));
          if (received.length === count) {
            clearTimeout(timer);
            await consumer.commitOffsets([...next].map(([p, offset]) => ({ topic, partition: p, offset })));
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.stop();
  return received;
}

/**
 * {@link consumeUntil} with a consumer of its own, in a group of its own, disconnected afterwards:
 * a consumer left connected keeps jest from exiting while the broker runs.
 */
export async function readMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { fromBeginning?: boolean; timeoutMs?: number } = {},
): Promise<ReceivedMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('it-read') });
  try {
    return await consumeUntil(consumer, topic, count, options);
  } finally {
    await consumer.disconnect();
  }
}

/** Every message `topic` holds now, read with a consumer of its own. */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReceivedMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let total: number;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
  return total === 0 ? [] : readMessages(kafka, topic, total);
}

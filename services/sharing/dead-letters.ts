import { type IHeaders } from 'kafkajs';
import { type Clock } from '../platform/clock';
import { ACKS_ALL, type RenewingProducer } from '../platform/kafka';
import { type TopicDeclaration } from '../platform/topic-policy';

/** Where the sharing service puts messages it can never apply. */
export const DEAD_LETTER_TOPIC = 'sharing.dead-letter';

/** The dead-letter topic as the topic policy declares it: kept a month, like a quarantine. */
export function deadLetterTopicDeclaration(topic: string = DEAD_LETTER_TOPIC): TopicDeclaration {
  return { topic, kind: 'dead-letter', numPartitions: 1 };
}

/** Headers added to a dead letter, next to the original message's own (its `traceparent`...). */
export const DEAD_LETTER_HEADERS = {
  topic: 'lienthong-dlq-topic',
  partition: 'lienthong-dlq-partition',
  offset: 'lienthong-dlq-offset',
  timestamp: 'lienthong-dlq-timestamp',
  errorCode: 'lienthong-error-code',
  reason: 'lienthong-dlq-reason',
  failedAt: 'lienthong-dlq-failed-at',
} as const;

/** A message that was read and refused. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  /** The bytes exactly as read, so a fixed consumer can replay them. */
  value: Buffer | null;
  headers: IHeaders;
  /** The broker's timestamp of the original message. */
  timestamp: string;
  code: string;
  reason: string;
}

/**
 * Writes dead letters and resolves once Kafka holds them (acks=all), so the caller commits the
 * original offsets only after the refusal is safe. The key is kept, so the dead letters of one
 * entity stay in order.
 */
export async function sendDeadLetters(
  producer: RenewingProducer,
  letters: readonly DeadLetter[],
  clock: Clock,
  topic: string = DEAD_LETTER_TOPIC,
): Promise<void> {
  if (letters.length === 0) return;
  const failedAt = new Date(clock()).toISOString();
  await producer.sendBatch({
    acks: ACKS_ALL,
    topicMessages: [
      {
        topic,
        messages: letters.map((letter) => ({
          key: letter.key,
          value: letter.value,
          // The topic's one partition (`deadLetterTopicDeclaration`).
          partition: 0,
          headers: {
            ...letter.headers,
            [DEAD_LETTER_HEADERS.topic]: letter.topic,
            [DEAD_LETTER_HEADERS.partition]: String(letter.partition),
            [DEAD_LETTER_HEADERS.offset]: letter.offset,
            [DEAD_LETTER_HEADERS.timestamp]: letter.timestamp,
            [DEAD_LETTER_HEADERS.errorCode]: letter.code,
            // Reasons name schema ids and field paths, never field values.
            [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 1_000),
            [DEAD_LETTER_HEADERS.failedAt]: failedAt,
          },
        })),
      },
    ],
  });
}

import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { principalSecurityEnv } from '../../deploy/local/broker-security';
import { type KafkaConnection } from '../../deploy/local/topics';
import { type AclGrant, applyAcls, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import { type CreateKafkaOptions, createKafka, withAdmin } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { endpoint, uniqueName } from './fixtures';

/**
 * The `KAFKA_*` variables of a client of the test stack that connects as `principal`: the
 * operator by default, for tests that only set up or verify. With the local stack every principal
 * has its password file in `LIENTHONG_KAFKA_SECRETS_DIR`; a broker without security (a test
 * container) ignores the principal.
 */
export function kafkaEnvOf(
  principal: string = OPERATOR_PRINCIPAL,
  brokers: string = endpoint('KAFKA_BROKERS'),
): Record<string, string> {
  return { KAFKA_BROKERS: brokers, ...principalSecurityEnv(process.env, principal) };
}

/** {@link kafkaEnvOf}, read as a service reads it; `brokers` for a test's private broker. */
export function testConnection(principal: string = OPERATOR_PRINCIPAL, brokers?: string): KafkaConnection {
  return kafkaConnection(loadConfig(KafkaEnv, kafkaEnvOf(principal, brokers)));
}

/** A kafkajs client of the test stack, as `principal` (the operator by default), logging nothing. */
export function testKafka(
  clientId: string,
  options: { principal?: string; brokers?: string; logger?: Logger } & Pick<
    CreateKafkaOptions,
    'connectionTimeout' | 'retry'
  > = {},
): Kafka {
  const { principal, brokers, logger, ...rest } = options;
  return createKafka({
    ...testConnection(principal, brokers),
    clientId,
    logger: logger ?? createLogger({ name: clientId, level: 'silent' }),
    ...rest,
  });
}

/** Whether the test broker checks ACLs; a test container runs without them. */
export function aclsEnforced(): boolean {
  return process.env.KAFKA_SECURITY_PROTOCOL !== 'PLAINTEXT';
}

/**
 * Grants, as the operator, the ACLs a service under test needs on a test's scratch topics, through
 * the same functions that declare the bus's own: the suite runs under the declared policy.
 */
export async function grantAcls(grants: readonly AclGrant[], brokers?: string): Promise<void> {
  if (!aclsEnforced()) return;
  await withAdmin(testConnection(OPERATOR_PRINCIPAL, brokers), 'it-acls', (admin) =>
    applyAcls(admin, grants),
  );
}

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

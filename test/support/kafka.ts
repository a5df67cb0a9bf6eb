import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ConnectionOptions } from 'node:tls';
import { brokerSecurityFiles, principalSecurityEnv } from '../../deploy/local/broker-security';
import { type KafkaConnection } from '../../deploy/local/topics';
import { type AclGrant, applyAcls, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import { type CreateKafkaOptions, createKafka, withAdmin } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { createLogger } from '../../services/platform/logger';
import { endpoint, uniqueName } from './fixtures';
import { type KafkaProxy, startKafkaProxy } from './kafka-proxy';

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
    'connectionTimeout' | 'retry' | 'socketFactory'
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

/** The local stack's security material, when the test broker has security on. */
function stackSecurityFiles() {
  const secrets = process.env.LIENTHONG_KAFKA_SECRETS_DIR;
  return aclsEnforced() && secrets !== undefined ? brokerSecurityFiles(dirname(secrets)) : undefined;
}

/** How a proxy reaches the test broker: over TLS verified with the stack's CA when it has one. */
export function brokerUpstream(): ConnectionOptions | undefined {
  const files = stackSecurityFiles();
  return files ? { ca: [readFileSync(files.caFile, 'utf8')] } : undefined;
}

/**
 * A Kafka proxy in front of the test stack's broker. With security on, it terminates TLS with the
 * local stack's node certificate, which clients verifying the broker accept, and reaches the broker
 * over TLS verified with the stack's CA; SASL passes through it as ordinary frames.
 */
export function startTestProxy(): KafkaProxy {
  const files = stackSecurityFiles();
  const upstream = brokerUpstream();
  if (!files || !upstream) return startKafkaProxy();
  // The keystore holds the node's key, its certificate and the CA, as Kafka reads PEM keystores.
  const blocks =
    readFileSync(files.keystoreFile, 'utf8').match(/-----BEGIN [A-Z ]+-----[^-]+-----END [A-Z ]+-----/g) ??
    [];
  const server = {
    key: blocks.filter((b) => b.includes('PRIVATE KEY')).join('\n'),
    cert: blocks.filter((b) => b.includes('CERTIFICATE')).join('\n'),
  };
  return startKafkaProxy({ tls: { server, upstream } });
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

/** How many messages `topic` holds now, over all its partitions. */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every message `topic` holds now, read with a consumer of its own. */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReceivedMessage[]> {
  const total = await topicSize(kafka, topic);
  return total === 0 ? [] : readMessages(kafka, topic, total);
}

/**
 * Deletes a domain topic and creates it again, empty, with `numPartitions`: what an operator's
 * mistake does to the coordinates the views recorded. Kafka refuses the creation while the
 * deletion is under way, so it is tried again until the new topic is there.
 */
export async function recreateTopic(kafka: Kafka, topic: string, numPartitions = 2): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    for (let attempt = 0; ; attempt += 1) {
      try {
        await ensurePolicyTopics(admin, [{ topic, kind: 'domain', numPartitions }]);
        const offsets = await admin.fetchTopicOffsets(topic);
        if (offsets.every((p) => p.high === '0')) return;
      } catch (err) {
        if (attempt >= 50) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

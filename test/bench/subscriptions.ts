/**
 * `npm run bench:subscriptions [-- --events N]`: webhook delivery on this machine. On scratch
 * topics, as the operator (the variables `npm run stack:up` prints, plus `MONGODB_URI`,
 * `SCHEMA_REGISTRY_URL` and an operator's `SCHEMA_REGISTRY_CLIENT_ID`/`SCHEMA_REGISTRY_KEY`), with
 * the demo receiver on the loopback:
 * 1. throughput: N events published at once, then the time until the receiver has applied them all;
 * 2. latency at half that rate: events published one by one at half the measured rate, each timed
 *    from Kafka's acknowledgement of the source event (what a connector's 200 waits for) to the
 *    receiver applying its webhook; p50, p99 and max are printed;
 * 3. the derived-topic lag: the deriver's committed offsets behind the source at the end of 1.
 * It measures and prints; it does not pass or fail on a time.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createAvroEncoder } from '../../connectors/runtime/avro-encoder';
import { createDemoReceiver } from '../../deploy/local/demo-receiver';
import {
  KafkaEnv,
  loadConfig,
  MongoEnv,
  SchemaRegistryClientEnv,
  SchemaRegistryEnv,
} from '../../services/platform/config';
import { ACKS_ALL, createKafka, createProducer, withAdmin } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { createMongoClient } from '../../services/platform/mongo';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { sharingAgreements } from '../../services/subscriptions/agreement';
import { loadContracts } from '../../services/subscriptions/contracts';
import { derivedTopicDeclaration, derivedTopicOf } from '../../services/subscriptions/derived-topics';
import { webhookEndpoints } from '../../services/subscriptions/endpoints';
import { createSubscriptionsService } from '../../services/subscriptions/subscriptions-service';
import { newWebhookSecret } from '../../services/subscriptions/webhook-signature';
import { eventOf } from '../unit/sharing/events';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '3000' } } });
  const total = Number(values.events);
  const env = loadConfig(
    Type.Object({
      ...KafkaEnv.properties,
      ...MongoEnv.properties,
      ...SchemaRegistryEnv.properties,
      ...SchemaRegistryClientEnv.properties,
    }),
  );
  const connection = kafkaConnection(env);
  const logger = createLogger({ name: 'bench-subscriptions', level: 'warn' });
  const run = `bench-subs-${randomUUID().slice(0, 8)}-`;
  const source = `${run}business-registration`;
  const agreements = sharingAgreements(
    {
      agreements: [
        {
          id: 'bench',
          consumer: 'HN-CUCTHUE',
          purpose: 'Measures webhook delivery',
          legalBasis: 'None: a benchmark',
          validFrom: '2020-01-01T00:00:00Z',
          validUntil: '2100-01-01T00:00:00Z',
          approvedBy: 'The benchmark',
          sources: [
            {
              topic: 'business-registration',
              events: {
                EnterpriseStatusChanged: { enterpriseCode: 'clear', status: 'clear', effectiveAt: 'clear' },
              },
            },
          ],
        },
      ],
    },
    loadContracts(),
  ).all();
  const derived = derivedTopicOf('bench', run);
  await withAdmin(connection, 'bench-subscriptions', (admin) =>
    ensurePolicyTopics(admin, [
      { topic: source, kind: 'domain', numPartitions: 6 },
      derivedTopicDeclaration(derived),
    ]),
  );
  const registry = new SchemaRegistry({
    host: env.SCHEMA_REGISTRY_URL,
    auth: { username: env.SCHEMA_REGISTRY_CLIENT_ID, password: env.SCHEMA_REGISTRY_KEY },
  });
  const encoder = createAvroEncoder({ registry, subject: 'business-registration-value' });
  await encoder.start();
  const secret = newWebhookSecret();
  const applied = new Map<string, number>();
  const receiver = createDemoReceiver({
    secrets: [secret],
    onEvent: (e) => void applied.set(e.subject, Date.now()),
  });
  const url = await receiver.start();
  const kafka = createKafka({ ...connection, clientId: 'bench-subscriptions', logger });
  const service = createSubscriptionsService({
    kafka,
    registry,
    logger,
    agreements,
    topicPrefix: run,
    groupPrefix: `${run}group`,
    host: '127.0.0.1',
    port: 0,
    endpoints: webhookEndpoints(
      { endpoints: [{ id: 'bench', agreement: 'bench', url, secrets: [secret] }] },
      agreements,
    ),
    mongo: createMongoClient({ uri: env.MONGODB_URI, appName: 'bench-subscriptions', logger }),
    dbName: run.replace(/-/g, '_').slice(0, 40),
  });
  await service.start();
  const producer = createProducer(kafka);
  await producer.connect();
  const message = (i: number) => {
    const code = `01${String(i).padStart(8, '0')}`;
    const event = eventOf(
      'EnterpriseStatusChanged',
      { record: `DN-${code}`, version: 2, occurredAt: Date.now(), subjects: { enterpriseCodes: [code] } },
      { enterpriseCode: code, status: 'SUSPENDED', effectiveAt: Date.now(), reason: null },
    );
    return { key: code, value: encoder.encode(event) };
  };
  const until = async (count: number) => {
    while (applied.size < count) await new Promise((r) => setTimeout(r, 20));
  };

  // 1. Throughput.
  const started = Date.now();
  for (let i = 0; i < total; i += 500)
    await producer.send({
      topic: source,
      acks: ACKS_ALL,
      messages: Array.from({ length: Math.min(500, total - i) }, (_, j) => message(i + j)),
    });
  await until(total);
  const rate = (total * 1_000) / (Date.now() - started);
  const lag = await withAdmin(connection, 'bench-subscriptions', async (admin) => {
    const high = await admin.fetchTopicOffsets(source);
    const [committed] = await admin.fetchOffsets({ groupId: `${run}group.bench`, topics: [source] });
    const done = committed?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) ?? 0;
    return high.reduce((n, p) => n + Number(p.high), 0) - done;
  });
  process.stdout.write(
    `bench:subscriptions: ${total} webhooks delivered in ${Date.now() - started} ms: ${rate.toFixed(0)} events/s; derived-topic lag after: ${lag}\n`,
  );

  // 2. Latency at half that rate, from the source's acknowledgement to the receiver.
  const count = Math.min(1_000, Math.max(100, Math.round(rate * 10)));
  const interval = 2_000 / rate;
  const acked = new Map<string, number>();
  const t0 = Date.now();
  for (let i = 0; i < count; i += 1) {
    const wait = t0 + i * interval - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const m = message(total + i);
    // Sent without waiting, as a connector's many requests are; the schedule is the open loop.
    void producer
      .send({ topic: source, acks: ACKS_ALL, messages: [m] })
      .then(() => acked.set(m.key, Date.now()));
  }
  await until(total + count);
  const latencies = [...acked].map(([key, at]) => (applied.get(key) ?? at) - at).sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  process.stdout.write(
    `bench:subscriptions: ${count} events at ${(rate / 2).toFixed(0)}/s: source ack to webhook applied p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)} ms\n`,
  );

  await service.stop();
  await producer.disconnect();
  await receiver.stop();
  await withAdmin(connection, 'bench-subscriptions', (admin) =>
    admin.deleteTopics({ topics: [source, derived] }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:subscriptions failed: ${(err as Error).message}\n`);
  process.exit(1);
});

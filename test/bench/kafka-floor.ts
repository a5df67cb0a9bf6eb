/**
 * Kafka's own floor under the ingest benchmark: the tax connector's records, Avro-encoded ahead,
 * written from the bench process through the connector's publisher and producers (as
 * `createConnector` wires them: idempotent, acks=all, no compression), on the open-loop schedule
 * the connector was given. What is left out is the connector's HTTP, JSON, validation, mapping and
 * encoding, and its process: the latency measured here is what Kafka and kafkajs take on this
 * machine at that rate, below which the connector cannot answer.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Histogram } from 'hdr-histogram-js';
import { createAvroEncoder } from '../../connectors/runtime/avro-encoder';
import { DEFAULT_PRODUCERS } from '../../connectors/runtime/config';
import { DOMAIN_TOPIC_PARTITIONS, SEND_TIMEOUT_MS } from '../../connectors/runtime/connector';
import {
  connectionRetryOptions,
  createPublisher,
  type OutgoingRecord,
} from '../../connectors/runtime/publisher';
import { taxConnector } from '../../connectors/tax/connector';
import { TOPICS } from '../../schemas/topics';
import { createKafka, createRenewingProducer, withAdmin } from '../../services/platform/kafka';
import { type KafkaConnection } from '../../deploy/local/topics';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { micros, microsHistogram, onSchedule } from './lookup-load';

/** A record as the connector publishes it, without its topic. */
export type EncodedRecord = Omit<OutgoingRecord, 'topic'>;

/** The connector's `traceparent` header is as long as this one; every record carries it. */
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * Each batch of native tax records as the connector would publish it: mapped to its event, keyed
 * by its aggregate id and encoded with the registry's latest `tax` schema, as the connector does.
 */
export async function encodeTaxBatches(
  registry: { url: string; key: string },
  batches: readonly (readonly unknown[])[],
): Promise<EncodedRecord[][]> {
  const encoder = createAvroEncoder({
    registry: new SchemaRegistry({
      host: registry.url,
      auth: { username: 'lienthong-reader', password: registry.key },
    }),
    subject: TOPICS.tax.valueSubject,
  });
  await encoder.start();
  const now = Date.now();
  return batches.map((records) =>
    records.map((record) => {
      const mapped = taxConnector.map(record as Parameters<typeof taxConnector.map>[0], { now });
      if (!mapped.ok) throw new Error(`A generated tax record was refused: ${mapped.issues[0]?.code}`);
      const { key, event } = mapped.value;
      return { key, value: encoder.encode(event), headers: { traceparent: TRACEPARENT } };
    }),
  );
}

export interface FloorResult {
  scheduled: number;
  /** `publish` calls Kafka acknowledged in full. */
  answered: number;
  /** `publish` calls that failed or timed out (the connector's `sendTimeoutMs`). */
  failed: number;
  /** From the scheduled call to Kafka's acknowledgement of all its records, µs. */
  latency: Histogram;
}

/**
 * Publishes `batches[i % length]` `rate × seconds` times on a fixed schedule (one `publish` call a
 * batch, as the connector makes one a POST), to a topic of its own that has the tax topic's
 * partitions and policy, created here and deleted after. A few batches go first, unmeasured, for
 * the producers' connections and metadata, as the connector had its warm-up.
 */
export async function kafkaFloor(options: {
  /** The operator's connection: it may create and delete topics. */
  connection: KafkaConnection;
  batches: readonly (readonly EncodedRecord[])[];
  rate: number;
  seconds: number;
}): Promise<FloorResult> {
  const { connection, batches, rate, seconds } = options;
  const topic = `bench.ingest-floor.${Date.now()}`;
  const clientId = 'bench-ingest-floor';
  // Failed calls are counted in the result; kafkajs's warning about bounded retries would only repeat.
  const logger = createLogger({ name: clientId, level: 'error' });
  await withAdmin(connection, `${clientId}-admin`, (admin) =>
    ensurePolicyTopics(admin, [{ topic, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS }]),
  );
  const kafka = createKafka({ ...connection, clientId, logger, retry: connectionRetryOptions() });
  const producers = Array.from({ length: DEFAULT_PRODUCERS }, () =>
    createRenewingProducer(kafka, { sendTimeoutMs: SEND_TIMEOUT_MS, logger }),
  );
  const publisher = createPublisher({
    producer: producers,
    logger,
    sendTimeoutMs: SEND_TIMEOUT_MS,
    partitions: (name) => (name === topic ? DOMAIN_TOPIC_PARTITIONS : undefined),
  });
  const publish = (i: number) =>
    publisher.publish((batches[i % batches.length] as EncodedRecord[]).map((r) => ({ ...r, topic })));
  const scheduled = Math.max(1, Math.round(rate * seconds));
  const result: FloorResult = { scheduled, answered: 0, failed: 0, latency: microsHistogram() };
  try {
    await Promise.all(producers.map((p) => p.connect()));
    for (let i = 0; i < 20; i += 1) await publish(i);
    const calls: Promise<void>[] = [];
    await onSchedule(rate, scheduled, (i, due) => {
      calls.push(
        publish(i).then(
          () => {
            result.answered += 1;
            result.latency.recordValue(micros(performance.now() - due));
          },
          () => {
            result.failed += 1;
          },
        ),
      );
    });
    // Each call settles within the publisher's sendTimeoutMs: no drain time of its own is needed.
    await Promise.all(calls);
    return result;
  } finally {
    await publisher.close();
    await Promise.all(producers.map((p) => p.disconnect()));
    await withAdmin(connection, `${clientId}-admin`, (admin) =>
      admin.deleteTopics({ topics: [topic] }),
    ).catch(() => undefined);
  }
}

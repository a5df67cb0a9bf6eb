import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type FastifyInstance } from 'fastify';
import { type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { TOPICS } from '../../schemas/topics';
import { type Clock, systemClock } from '../../services/platform/clock';
import { createAuthenticator, type CredentialEntry } from '../../services/platform/credentials';
import { createRenewingProducer, setUpTopics } from '../../services/platform/kafka';
import {
  checkTopics,
  describeDrift,
  ensurePolicyTopics,
  type TopicDrift,
  topicReadiness,
} from '../../services/platform/topic-policy';
import { createLifecycle, type Service } from '../../services/platform/lifecycle';
import { type AgencyDefinition } from './agency';
import { buildConnectorApp, type ConnectorLimits, type ConnectorTls } from './app';
import { createAvroEncoder } from './avro-encoder';
import { DEFAULT_PRODUCERS } from './config';
import { createImports } from './imports';
import { createIngest } from './ingest';
import { createPublisher, fetchPartitionCounts } from './publisher';
import {
  createQuarantine,
  QUARANTINE_GROUP_PREFIX,
  quarantineTopicDeclaration,
  quarantineTopicFor,
} from './quarantine';
import { followQuarantine } from './quarantine-follower';
import { createQuarantineIndex } from './quarantine-index';
import { REDRIVE_LOG_TOPIC, redriveLogTopicDeclaration } from '../../services/platform/redrive-log';

/** Partitions of a domain topic: room for the sharing service to consume in parallel. */
export const DOMAIN_TOPIC_PARTITIONS = 6;

/** How long a POST may wait for Kafka before it answers 503. */
export const SEND_TIMEOUT_MS = 5_000;

export interface ConnectorDeps {
  definition: AgencyDefinition;
  kafka: Kafka;
  registry: SchemaRegistry;
  logger: Logger;
  credentials: readonly CredentialEntry[];
  spoolDir: string;
  limits: ConnectorLimits;
  host: string;
  port: number;
  /** HTTPS, and client certificates when it has a CA. */
  tls?: ConnectorTls;
  /** Publishes to this topic instead of the contract's: tests give each file its own. */
  topicOverride?: string;
  /** Reception times and the future-date check; the system clock by default. */
  clock?: Clock;
  /** How long a POST may wait for Kafka before it answers 503; {@link SEND_TIMEOUT_MS} by default. */
  sendTimeoutMs?: number;
  /** Batches in flight at once, a producer each ({@link DEFAULT_PRODUCERS} by default). */
  producers?: number;
  /** Where resends are recorded; {@link REDRIVE_LOG_TOPIC} by default (tests give their own). */
  redriveLogTopic?: string;
  /** Most refused records the quarantine index holds; {@link QUARANTINE_INDEX_MAX} by default. */
  quarantineIndexMax?: number;
  /** How long an ended import's spool file is kept, by the clock; a week by default. */
  importRetentionMs?: number;
  /** How long an import's lease lasts unrenewed, in wall time; 30 s by default. */
  importLeaseMs?: number;
}

/**
 * Refused records one connector keeps in memory for `GET /v1/quarantine`: at a few KB each, some
 * hundreds of MB at most; refusals are rare next to accepted records, and older ones stay in the topic.
 */
export const QUARANTINE_INDEX_MAX = 100_000;

export interface Connector extends Service {
  app: FastifyInstance;
  url(): string;
}

/**
 * One agency's connector: HTTP in, Kafka out. Nothing happens until `start()`.
 *
 * Start: make sure the topic and its quarantine exist, learn their partition counts, fetch the
 * schema once, resume unfinished imports (a corrupt import status fails that import only), then
 * listen. Stop, in this order: stop intake (HTTP answers 503 while closing and lets requests in
 * flight finish), let the import in flight reach its checkpoint (or end its wait to retry), flush
 * the publisher, then disconnect from Kafka.
 */
export async function createConnector(deps: ConnectorDeps): Promise<Connector> {
  const { definition, kafka, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const topic = deps.topicOverride ?? TOPICS[definition.topic].topic;
  const quarantineTopic = quarantineTopicFor(topic);
  const sendTimeoutMs = deps.sendTimeoutMs ?? SEND_TIMEOUT_MS;
  const admin = kafka.admin();
  // Sends bounded by the POST's wait: an outage must end in a 503, not a send that holds a lane.
  const producers = Array.from({ length: deps.producers ?? DEFAULT_PRODUCERS }, () =>
    createRenewingProducer(kafka, { sendTimeoutMs, logger }),
  );
  const partitionCounts = new Map<string, number>();
  const publisher = createPublisher({
    producer: producers,
    logger,
    sendTimeoutMs,
    partitions: (name) => partitionCounts.get(name),
  });
  const encoder = createAvroEncoder({
    registry: deps.registry,
    subject: TOPICS[definition.topic].valueSubject,
  });
  const redriveLogTopic = deps.redriveLogTopic ?? REDRIVE_LOG_TOPIC;
  const quarantineIndex = createQuarantineIndex({
    maxRecords: deps.quarantineIndexMax ?? QUARANTINE_INDEX_MAX,
  });
  const quarantine = createQuarantine({
    publisher,
    topic,
    redriveLogTopic,
    written: {
      refusal: (where, value) => quarantineIndex.add(where, value),
      resolution: (resolution) => quarantineIndex.resolve(resolution),
    },
  });
  const follower = followQuarantine({
    kafka,
    admin,
    topic: quarantineTopic,
    // The agency's principal is named after its topic; the ACLs grant it this prefix.
    groupPrefix: `${QUARANTINE_GROUP_PREFIX}${definition.topic}-`,
    index: quarantineIndex,
    logger,
  });
  const ingest = createIngest({
    definition,
    topic,
    logger,
    clock,
    ports: {
      encode: (event) => encoder.encode(event),
      publish: (records) => publisher.publish(records),
      quarantine: (entry) => quarantine.quarantine(entry),
    },
  });
  const imports = createImports({
    definition,
    ingest,
    spoolDir: deps.spoolDir,
    logger,
    clock,
    ...(deps.importRetentionMs === undefined ? {} : { retentionMs: deps.importRetentionMs }),
    ...(deps.importLeaseMs === undefined ? {} : { leaseMs: deps.importLeaseMs }),
  });
  let ready = false;
  let drift: readonly TopicDrift[] = [];
  const declaredTopics = [
    { topic, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS } as const,
    quarantineTopicDeclaration(topic),
    redriveLogTopicDeclaration(redriveLogTopic),
  ];
  const app = await buildConnectorApp({
    definition,
    ingest,
    imports,
    quarantine: { index: quarantineIndex, follower, writer: quarantine },
    authenticate: createAuthenticator(deps.credentials),
    logger,
    limits: deps.limits,
    ready: () => topicReadiness(ready, drift),
    clock,
    ...(deps.tls ? { tls: deps.tls } : {}),
  });
  let url = '';

  const lifecycle = createLifecycle(`connector-${definition.name}`, {
    async start() {
      await admin.connect();
      await setUpTopics(async () => {
        await ensurePolicyTopics(admin, declaredTopics);
        drift = await checkTopics(admin, declaredTopics);
        for (const d of drift) logger.error({ drift: d }, describeDrift(d));
        for (const [name, count] of await fetchPartitionCounts(admin, [
          topic,
          quarantineTopic,
          redriveLogTopic,
        ]))
          partitionCounts.set(name, count);
      }, logger);
      await Promise.all(producers.map((producer) => producer.connect()));
      await encoder.start();
      // The index fills in the background: the quarantine routes wait for it, records need not.
      await follower.start();
      await imports.start();
      url = await app.listen({ host: deps.host, port: deps.port });
      ready = true;
    },
    async stop() {
      ready = false;
      await app.close();
      await imports.stop();
      await follower.stop();
      await publisher.close();
      await Promise.all(producers.map((producer) => producer.disconnect()));
      await admin.disconnect();
    },
  });
  return { ...lifecycle, app, url: () => url };
}

// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { appendFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { offsetClock } from '../platform/clock';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { createMongoClient } from '../platform/mongo';
import { changesTopicOf, sharingConfig } from './config';
import { createSharingService, type SharingTraceEntry } from './sharing-service';

// The level is set from the validated config once it is read.
const logger = createLogger({ name: 'sharing' });

void runMain({
  logger,
  build: async () => {
    const config = sharingConfig();
    logger.level = config.LOG_LEVEL;
    return createSharingService({
      kafka: createKafka({
        ...kafkaConnection(config),
        clientId: config.KAFKA_CLIENT_ID ?? 'lienthong-sharing',
        logger,
      }),
      mongo: createMongoClient({ uri: config.MONGODB_URI, appName: 'lienthong-sharing', logger }),
      dbName: config.MONGODB_DB,
      registry: new SchemaRegistry({
        host: config.SCHEMA_REGISTRY_URL,
        auth: { username: config.SCHEMA_REGISTRY_CLIENT_ID, password: config.SCHEMA_REGISTRY_KEY },
      }),
      logger,
      groupId: config.SHARING_GROUP_ID,
      topics: Object.fromEntries(
        TOPIC_NAMES.map((t) => [t, `${config.SHARING_TOPIC_PREFIX}${TOPICS[t].topic}`]),
      ),
      deadLetterTopic: config.SHARING_DEAD_LETTER_TOPIC,
      // Several instances may run: each view document is written by one of them (changes.ts).
      // `direct` applies the domain events directly, for one instance only.
      changesTopic: changesTopicOf(config),
      batchSize: config.SHARING_BATCH_SIZE,
      roundTargetMs: config.SHARING_ROUND_TARGET_MS,
      unknownSchemaRetryMs: config.SHARING_UNKNOWN_SCHEMA_RETRY_MS,
      concurrency: config.SHARING_CONCURRENCY,
      cacheBytes: config.SHARING_CACHE_MIB * 1_048_576,
      host: config.HOST,
      port: config.PORT,
      clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
      // Tests only: which instance wrote which document when (test/faults/sharing-instances).
      ...(config.SHARING_TRACE_FILE === ''
        ? {}
        : {
            trace: (entry: SharingTraceEntry) =>
              appendFileSync(
                config.SHARING_TRACE_FILE,
                `${JSON.stringify({ ...entry, pid: process.pid })}\n`,
              ),
          }),
    });
  },
});

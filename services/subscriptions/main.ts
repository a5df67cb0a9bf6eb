// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { offsetClock } from '../platform/clock';
import { createAuthenticator, loadCredentialsFile } from '../platform/credentials';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { createMongoClient } from '../platform/mongo';
import { AGREEMENTS_VARIABLE, loadAgreements } from './agreement';
import { subscriptionsConfig } from './config';
import { ENDPOINTS_VARIABLE, loadEndpoints } from './endpoints';
import { createSubscriptionsService } from './subscriptions-service';

// The level is set from the validated config once it is read.
const logger = createLogger({ name: 'subscriptions' });

void runMain({
  logger,
  build: async () => {
    const config = subscriptionsConfig();
    logger.level = config.LOG_LEVEL;
    const agreements = loadAgreements(config[AGREEMENTS_VARIABLE]).all();
    const endpointsFile = config[ENDPOINTS_VARIABLE];
    const keysFile = config.SUBSCRIPTIONS_KEYS_FILE;
    return createSubscriptionsService({
      kafka: createKafka({
        ...kafkaConnection(config),
        clientId: config.KAFKA_CLIENT_ID ?? 'lienthong-subscriptions',
        logger,
      }),
      registry: new SchemaRegistry({
        host: config.SCHEMA_REGISTRY_URL,
        auth: { username: config.SCHEMA_REGISTRY_CLIENT_ID, password: config.SCHEMA_REGISTRY_KEY },
      }),
      logger,
      agreements,
      endpoints: endpointsFile === undefined ? [] : loadEndpoints(endpointsFile, agreements),
      mongo: createMongoClient({ uri: config.MONGODB_URI, appName: 'lienthong-subscriptions', logger }),
      dbName: config.MONGODB_DB,
      ...(keysFile === undefined
        ? {}
        : { authenticate: createAuthenticator(loadCredentialsFile(keysFile, 'SUBSCRIPTIONS_KEYS_FILE')) }),
      topicPrefix: config.SUBSCRIPTIONS_TOPIC_PREFIX,
      groupPrefix: config.SUBSCRIPTIONS_GROUP_PREFIX,
      host: config.HOST,
      port: config.PORT,
      clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
    });
  },
});

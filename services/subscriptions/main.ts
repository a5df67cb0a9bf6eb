// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { offsetClock } from '../platform/clock';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { AGREEMENTS_VARIABLE, loadAgreements } from './agreement';
import { subscriptionsConfig } from './config';
import { createSubscriptionsService } from './subscriptions-service';

// The level is set from the validated config once it is read.
const logger = createLogger({ name: 'subscriptions' });

void runMain({
  logger,
  build: async () => {
    const config = subscriptionsConfig();
    logger.level = config.LOG_LEVEL;
    const agreements = loadAgreements(config[AGREEMENTS_VARIABLE]);
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
      agreements: agreements.all(),
      topicPrefix: config.SUBSCRIPTIONS_TOPIC_PREFIX,
      groupPrefix: config.SUBSCRIPTIONS_GROUP_PREFIX,
      host: config.HOST,
      port: config.PORT,
      clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
    });
  },
});

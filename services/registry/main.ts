// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { TOPICS } from '../../schemas/topics';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { registryConfig } from './config';
import { loadCredentialsFile } from '../platform/credentials';
import { createRegistry } from './registry';

// The level is set from the validated config once it is read.
const logger = createLogger({ name: 'registry' });

void runMain({
  logger,
  build: async () => {
    const config = registryConfig();
    logger.level = config.LOG_LEVEL;
    return createRegistry({
      kafka: createKafka({
        ...kafkaConnection(config),
        clientId: config.KAFKA_CLIENT_ID ?? 'lienthong-registry',
        logger,
      }),
      logger,
      topic: config.SCHEMA_REGISTRY_TOPIC,
      credentials: loadCredentialsFile(
        config.SCHEMA_REGISTRY_CREDENTIALS_FILE,
        'SCHEMA_REGISTRY_CREDENTIALS_FILE',
      ),
      // The contract fixes who owns each domain's subject.
      declaredOwners: new Map(Object.values(TOPICS).map((t) => [t.valueSubject, t.owner])),
      defaultLevel: config.SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY,
      bodyLimit: config.SCHEMA_REGISTRY_BODY_LIMIT,
      host: config.HOST,
      port: config.PORT,
    });
  },
});

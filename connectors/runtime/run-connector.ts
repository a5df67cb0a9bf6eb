import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../services/platform/errors';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { offsetClock } from '../../services/platform/clock';
import { loadCredentialsFile } from '../../services/platform/credentials';
import { createKafka } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { runMain } from '../../services/platform/lifecycle';
import { createLogger } from '../../services/platform/logger';
import { type AgencyDefinition } from './agency';
import { CONNECTOR_PORTS, type ConnectorConfig, connectorConfig } from './config';
import { type ConnectorDeps, createConnector } from './connector';
import { connectionRetryOptions } from './publisher';

/**
 * The body of each `connectors/<agency>/main.ts`: config, wiring, and the shared lifecycle. A
 * benchmark or a test gives `topicOverride` (and `redriveLogTopic`) to publish to scratch topics;
 * `CONNECTOR_TOPIC` does the same for the compiled connector.
 */
export function runConnector(
  definition: AgencyDefinition,
  overrides: Pick<ConnectorDeps, 'topicOverride' | 'redriveLogTopic'> = {},
): void {
  // The level is set from the validated config once it is read.
  const logger = createLogger({
    name: `connector-${definition.name}`,
    bindings: { agency: definition.agency },
  });
  void runMain({
    logger,
    build: async () => {
      const defaultPort = CONNECTOR_PORTS[definition.name as keyof typeof CONNECTOR_PORTS] ?? 0;
      const defaultSpool = resolve(__dirname, '..', '..', '.state', 'connectors', definition.name, 'imports');
      const config = connectorConfig(defaultPort, defaultSpool);
      logger.level = config.LOG_LEVEL;
      return createConnector({
        definition,
        kafka: createKafka({
          ...kafkaConnection(config),
          clientId: config.KAFKA_CLIENT_ID ?? `lienthong-connector-${definition.name}`,
          logger,
          retry: connectionRetryOptions(),
        }),
        registry: new SchemaRegistry({
          host: config.SCHEMA_REGISTRY_URL,
          auth: { username: config.SCHEMA_REGISTRY_CLIENT_ID, password: config.SCHEMA_REGISTRY_KEY },
        }),
        logger,
        credentials: loadCredentialsFile(config.CONNECTOR_API_KEYS_FILE, 'CONNECTOR_API_KEYS_FILE'),
        spoolDir: config.CONNECTOR_SPOOL_DIR,
        importRetentionMs: config.CONNECTOR_IMPORT_RETENTION_MS,
        importLeaseMs: config.CONNECTOR_IMPORT_LEASE_MS,
        producers: config.CONNECTOR_PRODUCERS,
        limits: {
          bodyLimit: config.CONNECTOR_BODY_LIMIT,
          maxRecords: config.CONNECTOR_MAX_RECORDS,
          importLimit: config.CONNECTOR_IMPORT_LIMIT,
        },
        host: config.HOST,
        port: config.PORT,
        clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
        ...tlsFrom(config),
        ...(config.CONNECTOR_TOPIC === undefined ? {} : { topicOverride: config.CONNECTOR_TOPIC }),
        ...overrides,
      });
    },
  });
}

/** HTTPS needs a certificate and its key together; the CA alone adds client certificates. */
function tlsFrom(config: Readonly<ConnectorConfig>) {
  const { CONNECTOR_TLS_CERT_FILE: cert, CONNECTOR_TLS_KEY_FILE: key, CONNECTOR_TLS_CA_FILE: ca } = config;
  if (!cert && !key && !ca) return {};
  if (!cert || !key) {
    throw new ConfigError([
      {
        variable: cert ? 'CONNECTOR_TLS_KEY_FILE' : 'CONNECTOR_TLS_CERT_FILE',
        message: 'HTTPS needs both CONNECTOR_TLS_CERT_FILE and CONNECTOR_TLS_KEY_FILE',
      },
    ]);
  }
  return {
    tls: {
      cert: readFileSync(cert, 'utf8'),
      key: readFileSync(key, 'utf8'),
      ...(ca ? { ca: readFileSync(ca, 'utf8') } : {}),
    },
  };
}

// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { offsetClock } from '../platform/clock';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { createMongoClient } from '../platform/mongo';
import { auditSealKeys, lookupConfig, oidcIssuerOf } from './config';
import { loadFieldPolicies } from './field-policy';
import { createLookupService } from './lookup-service';
import { jwksKeys } from './jwks-keys';
import { busIssuer, createTokenVerifier, loadTokenKeys, type TokenIssuer } from './tokens';

const logger = createLogger({ name: 'lookup' });

void runMain({
  logger,
  build: async () => {
    const config = lookupConfig();
    logger.level = config.LOG_LEVEL;
    const clock = offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger);
    const issuers: TokenIssuer[] = [
      busIssuer({
        keys: loadTokenKeys(config.LOOKUP_JWT_KEYS_FILE, 'LOOKUP_JWT_KEYS_FILE'),
        issuer: config.LOOKUP_JWT_ISSUER,
        audience: config.LOOKUP_JWT_AUDIENCE,
      }),
    ];
    const oidc = oidcIssuerOf(config);
    if (oidc) {
      const keys = jwksKeys({
        issuer: oidc.issuer,
        ...(oidc.jwksUrl ? { jwksUrl: oidc.jwksUrl } : {}),
        clock,
        logger,
      });
      // Read once now, so the first officer does not wait for it; an issuer that is away only
      // delays its own sign-ins, and the next token with an unknown key looks again.
      await keys.refresh();
      issuers.push({ ...oidc, keys });
    }
    return createLookupService({
      kafka: createKafka({
        ...kafkaConnection(config),
        clientId: config.KAFKA_CLIENT_ID ?? 'lienthong-lookup',
        logger,
      }),
      // A lookup fails fast while the store is away: it answers 503 rather than hang.
      mongo: createMongoClient({
        uri: config.MONGODB_URI,
        appName: 'lienthong-lookup',
        logger,
        serverSelectionTimeoutMS: 2_000,
      }),
      dbName: config.MONGODB_DB,
      registry: new SchemaRegistry({
        host: config.SCHEMA_REGISTRY_URL,
        auth: { username: config.SCHEMA_REGISTRY_CLIENT_ID, password: config.SCHEMA_REGISTRY_KEY },
      }),
      logger,
      policies: loadFieldPolicies(config.LOOKUP_POLICY_FILE),
      verifyToken: createTokenVerifier({
        issuers,
        clock,
        maxLifetimeMs: config.LOOKUP_JWT_MAX_LIFETIME_MS,
        iatSkewMs: config.LOOKUP_JWT_IAT_SKEW_MS,
      }),
      ...auditSealKeys(config),
      sealEveryMs: config.LOOKUP_AUDIT_SEAL_EVERY_MS,
      auditWriteTimeoutMs: config.LOOKUP_AUDIT_WRITE_TIMEOUT_MS,
      auditTopic: config.LOOKUP_AUDIT_TOPIC,
      limits: {
        perClientPerMinute: config.LOOKUP_RATE_CLIENT_PER_MINUTE,
        perPrincipalPerMinute: config.LOOKUP_RATE_OFFICER_PER_MINUTE,
        perAgencyPerMinute: config.LOOKUP_RATE_AGENCY_PER_MINUTE,
        pageMax: config.LOOKUP_PAGE_MAX,
        refusalFloorMs: config.LOOKUP_REFUSAL_FLOOR_MS,
      },
      host: config.HOST,
      port: config.PORT,
      clock,
    });
  },
});

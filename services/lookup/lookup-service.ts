import { type KeyObject } from 'node:crypto';
import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type FastifyInstance } from 'fastify';
import { type Kafka } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../platform/clock';
import { createRenewingProducer } from '../platform/kafka';
import {
  checkTopics,
  describeDrift,
  ensurePolicyTopics,
  type TopicDrift,
  topicReadiness,
} from '../platform/topic-policy';
import { createLifecycle, type Service } from '../platform/lifecycle';
import { createEventDecoder } from '../sharing/event-decoder';
import { buildLookupApp, type LookupLimits } from './app';
import { auditTopicDeclaration, createAuditRelay, readAuditCopy } from './audit-relay';
import { type AuditTrail, createAuditTrail } from './audit-trail';
import { type FieldPolicies } from './field-policy';
import { keepPolicyVersion } from './policy-versions';
import { type TokenVerifier } from './tokens';

export interface LookupDeps {
  kafka: Kafka;
  /** Not connected yet: `start()` connects it and `stop()` closes it. */
  mongo: MongoClient;
  dbName: string;
  registry: SchemaRegistry;
  logger: Logger;
  policies: FieldPolicies;
  verifyToken: TokenVerifier;
  sealKey: { privateKey: KeyObject; publicKey: KeyObject };
  /** Earlier seal keys whose seals still verify, besides the current one (`LOOKUP_AUDIT_TRUSTED_KEYS_FILE`). */
  trustedSealKeys?: readonly KeyObject[];
  sealEveryMs: number;
  auditWriteTimeoutMs: number;
  /** Where the audit trail is copied; null leaves it in the store only. */
  auditTopic: string | null;
  limits: LookupLimits;
  host: string;
  port: number;
  /** The audit trail's times and the default end of a flow summary; the system clock by default. */
  clock?: Clock;
}

export interface LookupService extends Service {
  app: FastifyInstance;
  trail: AuditTrail;
  url(): string;
}

/**
 * The lookup service: the HTTP API over the views and the audit trail, and the relay that copies
 * the trail to Kafka.
 *
 * Stop, in order: stop taking requests and finish those in flight (`app.close()`, which answers
 * 503 to new ones meanwhile, then waits for requests whose client left to be audited); write the
 * last audit batch and seal the head; stop the relay; disconnect Kafka; close MongoDB.
 */
export function createLookupService(deps: LookupDeps): LookupService {
  const db = deps.mongo.db(deps.dbName);
  const auditTopic = deps.auditTopic;
  const trail = createAuditTrail({
    db,
    logger: deps.logger.child({ component: 'audit' }),
    sealKey: deps.sealKey,
    ...(deps.trustedSealKeys ? { trustedKeys: deps.trustedSealKeys } : {}),
    sealEveryMs: deps.sealEveryMs,
    writeTimeoutMs: deps.auditWriteTimeoutMs,
    ...(auditTopic === null ? {} : { readCopy: () => readAuditCopy(deps.kafka, auditTopic) }),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const admin = deps.kafka.admin();
  const producer = createRenewingProducer(deps.kafka, { logger: deps.logger });
  const relay =
    deps.auditTopic === null
      ? undefined
      : createAuditRelay({ trail, db, producer, topic: deps.auditTopic, logger: deps.logger });
  let ready = false;
  let drift: readonly TopicDrift[] = [];
  let url = '';
  let app: FastifyInstance | undefined;
  const building = buildLookupApp({
    logger: deps.logger,
    db,
    trail,
    policies: deps.policies,
    verifyToken: deps.verifyToken,
    kafka: deps.kafka,
    decoder: createEventDecoder({ registry: deps.registry }),
    limits: deps.limits,
    ready: () => topicReadiness(ready, drift),
    ...(deps.clock ? { clock: deps.clock } : {}),
  }).then((built) => (app = built));

  const lifecycle = createLifecycle('lookup', {
    async start() {
      await building;
      await deps.mongo.connect();
      // Before the first answer cut by it: an auditor may reconstruct that answer after the file changed.
      await keepPolicyVersion(db, deps.policies, new Date((deps.clock ?? systemClock)()));
      await trail.open();
      if (relay && deps.auditTopic !== null) {
        await admin.connect();
        const declared = [auditTopicDeclaration(deps.auditTopic)];
        await ensurePolicyTopics(admin, declared);
        drift = await checkTopics(admin, declared);
        for (const d of drift) deps.logger.error({ drift: d }, describeDrift(d));
        await producer.connect();
        await relay.start();
      }
      url = await (app as FastifyInstance).listen({ host: deps.host, port: deps.port });
      ready = true;
    },
    async stop() {
      ready = false;
      await app?.close();
      // A request whose client left before its answer is still being read and audited.
      await app?.drained(5_000);
      await trail.close();
      await relay?.stop();
      await producer.disconnect();
      await admin.disconnect();
      await deps.mongo.close();
    },
  });
  return {
    ...lifecycle,
    get app() {
      return app as FastifyInstance;
    },
    trail,
    url: () => url,
  };
}

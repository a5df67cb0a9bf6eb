import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type FastifyInstance } from 'fastify';
import { type Kafka } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { Counter } from 'prom-client';
import { TOPICS, type TopicName } from '../../schemas/topics';
import { type Clock, systemClock } from '../platform/clock';
import { type PresentedCredential, type Principal } from '../platform/credentials';
import { answerRequestError, createHttpServer, registerOperations, routeNotFound } from '../platform/http';
import { createRenewingProducer } from '../platform/kafka';
import { createLifecycle, type Service } from '../platform/lifecycle';
import { AGENCY_KEY_SCHEMES, registerOpenApi } from '../platform/openapi';
import { type AuditTrail, createAuditTrail } from '../lookup/audit-trail';
import { createEventDecoder } from '../sharing/event-decoder';
import { type Agreement, inForce } from './agreement';
import { type Contracts, loadContracts } from './contracts';
import { type DerivedContract, deriveContract } from './derived-schema';
import { DEFAULT_SUBSCRIPTIONS_GROUP, derivationGroupOf, derivedTopicOf } from './derived-topics';
import { deliveryAuditEntry } from './delivery-audit';
import { createDeliveryLog, type DeliveryLog } from './delivery-log';
import { createDeriver, type Derivation, type Deriver, type DeriverStats } from './deriver';
import { type WebhookEndpoint } from './endpoints';
import { createFeedStore, type FeedStore } from './feed-store';
import { authenticateCallers } from './routes/caller';
import { registerDeliveryRoutes } from './routes/deliveries';
import { registerFeedRoutes } from './routes/feeds';
import { registerRedriveRoutes } from './routes/redrive';
import {
  createWebhookDispatcher,
  DEFAULT_WEBHOOK_POLICY,
  type DispatcherStats,
  type WebhookDispatcher,
  type WebhookPolicy,
} from './webhook-dispatcher';

export interface SubscriptionsDeps {
  /** A client as the subscriptions service's own principal. */
  kafka: Kafka;
  /** A registry client that may register the derived subjects and read the domain ones. */
  registry: SchemaRegistry;
  logger: Logger;
  agreements: readonly Agreement[];
  contracts?: Contracts;
  /** Prefixes the domain and derived topics' names: a test's own. */
  topicPrefix?: string;
  groupPrefix?: string;
  clock?: Clock;
  host: string;
  port: number;
  /** How often the agreements' validity is checked, to start and stop their delivery; 1 s by default. */
  checkIntervalMs?: number;
  /** Told every batch's derivations before Kafka has them and their source offsets are committed. */
  onDerived?: (derivations: readonly Derivation[]) => Promise<void> | void;
  /** The webhook subscriptions; each needs `mongo` for its delivery log. */
  endpoints?: readonly WebhookEndpoint[];
  /**
   * The store of the pull feed and the delivery log; without it, delivery is by Kafka only. Not
   * connected yet: the service connects it in `start()` and closes it in `stop()`.
   */
  mongo?: MongoClient;
  dbName?: string;
  webhookPolicy?: WebhookPolicy;
  /**
   * How long an audit write may take before the batch it records is retried; 2 s by default. With
   * a store, every derived event is a data flow in the audit trail before any channel carries it.
   */
  auditWriteTimeoutMs?: number;
  /** Who calls the HTTP API: an agency system's API key; nobody when absent. */
  authenticate?: (presented: PresentedCredential) => Principal | undefined;
}

export interface SubscriptionsService extends Service {
  app: FastifyInstance;
  url(): string;
  /** Per agreement id. */
  stats(): Record<string, DeriverStats & { running: boolean }>;
  /** Per webhook subscription id. */
  webhookStats(): Record<string, DispatcherStats>;
  /** The derived contract of each agreement, with its derived topic and the schema id registered. */
  contracts(): ReadonlyMap<string, { contract: DerivedContract; topic: string; schemaId: number }>;
}

/**
 * The subscriptions service: for every sharing agreement, a derivation ({@link createDeriver}) that
 * runs while the agreement is in force, checked every `checkIntervalMs` against the clock.
 *
 * Each webhook subscription runs with its agreement ({@link createWebhookDispatcher}).
 *
 * Start: connect the store (for the delivery log), register each agreement's derived schema under
 * its topic's value subject, connect the producer, then start the derivations and webhooks of the
 * agreements in force. Stop, in order: stop the HTTP server, stop each agreement's webhooks and
 * derivation (each finishes its message or batch and commits), disconnect the producer and the
 * admin client, then close the store.
 */
export function createSubscriptionsService(deps: SubscriptionsDeps): SubscriptionsService {
  const { kafka, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const prefix = deps.topicPrefix ?? '';
  const contracts = deps.contracts ?? loadContracts();
  const admin = kafka.admin();
  const producer = createRenewingProducer(kafka, { logger });
  const decoder = createEventDecoder({ registry: deps.registry, clock });
  const derived = new Map<string, { contract: DerivedContract; topic: string; schemaId: number }>();
  const derivers = new Map<string, Deriver>();
  const running = new Set<string>();
  const endpoints = deps.endpoints ?? [];
  const dispatchers = new Map<string, { agreementId: string; dispatcher: WebhookDispatcher }>();
  let deliveryLog: DeliveryLog | undefined;
  let feed: FeedStore | undefined;
  let trail: AuditTrail | undefined;
  const logOf = (): DeliveryLog => {
    if (!deliveryLog) throw new Error('The delivery log needs a store');
    return deliveryLog;
  };
  const feedOf = (): FeedStore => {
    if (!feed) throw new Error('The feed needs a store');
    return feed;
  };
  const trailOf = (): AuditTrail => {
    if (!trail) throw new Error('The audit trail needs a store');
    return trail;
  };
  /** The feed requests waiting for each agreement's next entries. */
  const waiting = new Map<string, Set<() => void>>();
  const nextEntries = (agreementId: string, ms: number): Promise<void> =>
    new Promise((resolve) => {
      const set = waiting.get(agreementId) ?? new Set();
      waiting.set(agreementId, set);
      const wake = (): void => {
        clearTimeout(timeout);
        set.delete(wake);
        resolve();
      };
      const timeout = setTimeout(wake, ms);
      set.add(wake);
    });
  let ready = false;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> = Promise.resolve();

  // The API takes no body, so parameters may be coerced (`?limit=5`).
  const app = createHttpServer({ logger, bodyLimit: 1_024, coerceParameters: true });
  const authenticate = deps.authenticate ?? (() => undefined);
  void registerOpenApi(app, {
    info: {
      title: 'lienthong subscriptions service',
      version: '1',
      description: "Delivers other agencies' events to agency systems under sharing agreements",
    },
    securitySchemes: AGENCY_KEY_SCHEMES,
    errors: [400, 401, 414, 500],
  });
  const metrics = registerOperations(app, { service: 'subscriptions', ready: () => ready });
  app.setErrorHandler(answerRequestError);
  app.setNotFoundHandler(routeNotFound);
  authenticateCallers(app, authenticate);
  // In a plugin, so that the description, registered without waiting, sees them.
  void app.register(async (scope) => {
    registerDeliveryRoutes(scope, { endpoints, agreements: deps.agreements, log: logOf, authenticate });
    registerFeedRoutes(scope, { contracts: () => derived, feed: feedOf, nextEntries, clock, authenticate });
    registerRedriveRoutes(scope, {
      endpoints,
      agreements: deps.agreements,
      contracts: () => derived,
      log: logOf,
      feed: feedOf,
      trail: trailOf,
      clock,
      timeoutMs: (deps.webhookPolicy ?? DEFAULT_WEBHOOK_POLICY).timeoutMs,
      authenticate,
    });
  });
  const delivered = new Counter({
    name: 'subscriptions_derived_total',
    help: 'Derived events written to the derived topics, by agreement',
    labelNames: ['agreement'] as const,
    registers: [metrics],
  });

  const dispatchersOf = (agreementId: string): WebhookDispatcher[] =>
    [...dispatchers.values()].filter((d) => d.agreementId === agreementId).map((d) => d.dispatcher);
  /** Stops an agreement's webhooks first, then its derivation. */
  const stopAll = async (agreementId: string, deriver: Deriver): Promise<void> => {
    for (const d of dispatchersOf(agreementId)) await d.stop();
    await deriver.stop();
  };

  /** Starts the derivations of the agreements in force, and stops those no longer in force. */
  const check = async (): Promise<void> => {
    const now = clock();
    for (const agreement of deps.agreements) {
      const deriver = derivers.get(agreement.id);
      if (!deriver) continue;
      const should = inForce(agreement, now);
      if (should && !running.has(agreement.id)) {
        running.add(agreement.id);
        logger.info({ agreement: agreement.id, version: agreement.version }, 'Delivery starts');
        try {
          await deriver.start();
          for (const d of dispatchersOf(agreement.id)) await d.start();
        } catch (err) {
          running.delete(agreement.id);
          await stopAll(agreement.id, deriver);
          logger.error({ err, agreement: agreement.id }, 'Delivery could not start; trying again');
        }
      } else if (!should && running.has(agreement.id)) {
        running.delete(agreement.id);
        logger.info({ agreement: agreement.id }, 'The agreement is not in force; delivery stops');
        await stopAll(agreement.id, deriver);
      }
    }
  };
  const schedule = (): void => {
    checking = checking
      .then(check)
      .catch((err: unknown) => logger.error({ err }, 'Checking the agreements failed'));
  };

  let url = '';
  const lifecycle = createLifecycle('subscriptions', {
    async start() {
      if (endpoints.length > 0 && !deps.mongo)
        throw new Error('Webhook subscriptions need a store for their delivery log');
      if (deps.mongo) {
        await deps.mongo.connect();
        const db = deps.mongo.db(deps.dbName);
        deliveryLog = createDeliveryLog(db);
        feed = createFeedStore(db);
        // The lookup service's chain, appended to by the same code; the lookup service, which
        // holds the seal key, seals these records too and copies them to Kafka.
        trail = createAuditTrail({
          db,
          logger: logger.child({ component: 'audit' }),
          clock,
          sealEveryMs: 60_000,
          writeTimeoutMs: deps.auditWriteTimeoutMs ?? 2_000,
        });
        await trail.open();
      }
      await admin.connect();
      await producer.connect();
      for (const agreement of deps.agreements) {
        const contract = deriveContract(agreement, contracts);
        const topic = derivedTopicOf(agreement.id, prefix);
        const { id } = await deps.registry.register(
          { type: SchemaType.AVRO, schema: JSON.stringify(contract.schema) },
          { subject: `${topic}-value` },
        );
        derived.set(agreement.id, { contract, topic, schemaId: id });
        const sources = new Map<string, TopicName>(
          agreement.sources.map((s) => [`${prefix}${TOPICS[s.topic].topic}`, s.topic]),
        );
        derivers.set(
          agreement.id,
          createDeriver({
            kafka,
            admin,
            producer,
            decoder,
            logger: logger.child({ agreement: agreement.id }),
            contract,
            schemaId: id,
            derivedTopic: topic,
            sources,
            groupId: derivationGroupOf(agreement.id, deps.groupPrefix ?? DEFAULT_SUBSCRIPTIONS_GROUP),
            clock,
            onDerived: async (derivations) => {
              // A data flow in the audit trail before any channel carries it (the derived topic,
              // the feed, the webhooks): a failed write fails the batch, which is derived again.
              if (trail) {
                const audit = trail;
                await Promise.all(
                  derivations.map((d) =>
                    audit.append(deliveryAuditEntry(agreement, sources.get(d.source.topic) as TopicName, d)),
                  ),
                );
              }
              // In the feed before Kafka and the commit: a crash repeats, never loses.
              await feed?.append(agreement.id, derivations, new Date(clock()));
              for (const wake of [...(waiting.get(agreement.id) ?? [])]) wake();
              delivered.inc({ agreement: agreement.id }, derivations.length);
              await deps.onDerived?.(derivations);
            },
          }),
        );
      }
      for (const endpoint of endpoints) {
        const entry = derived.get(endpoint.agreement);
        if (!entry) continue;
        dispatchers.set(endpoint.id, {
          agreementId: endpoint.agreement,
          dispatcher: createWebhookDispatcher({
            kafka,
            registry: deps.registry,
            logger: logger.child({ subscription: endpoint.id }),
            endpoint,
            contract: entry.contract,
            derivedTopic: entry.topic,
            groupId: `${deps.groupPrefix ?? DEFAULT_SUBSCRIPTIONS_GROUP}.webhook.${endpoint.id}`,
            log: logOf(),
            citizenIdsOf: (eventId) => feedOf().citizenIdsOf(eventId),
            clock,
            policy: deps.webhookPolicy ?? DEFAULT_WEBHOOK_POLICY,
          }),
        });
      }
      schedule();
      await checking;
      timer = setInterval(schedule, deps.checkIntervalMs ?? 1_000);
      ready = true;
      url = await app.listen({ host: deps.host, port: deps.port });
    },
    async stop() {
      ready = false;
      clearInterval(timer);
      await checking;
      await app.close();
      for (const [id, deriver] of derivers) {
        if (running.delete(id)) await stopAll(id, deriver);
      }
      await producer.disconnect();
      await admin.disconnect();
      for (const set of waiting.values()) for (const wake of [...set]) wake();
      await trail?.close();
      trail = undefined;
      if (feed) await deps.mongo?.close();
      deliveryLog = undefined;
      feed = undefined;
    },
  });
  return {
    ...lifecycle,
    app,
    url: () => url,
    stats: () =>
      Object.fromEntries([...derivers].map(([id, d]) => [id, { ...d.stats(), running: running.has(id) }])),
    contracts: () => derived,
    webhookStats: () => Object.fromEntries([...dispatchers].map(([id, d]) => [id, d.dispatcher.stats()])),
  };
}

import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { agreementGrants, SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { type Clock } from '../../services/platform/clock';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { type Agreement, sharingAgreements } from '../../services/subscriptions/agreement';
import { loadContracts } from '../../services/subscriptions/contracts';
import {
  consumerGroupPrefixOf,
  derivedTopicDeclaration,
  derivedTopicOf,
} from '../../services/subscriptions/derived-topics';
import {
  createSubscriptionsService,
  type SubscriptionsDeps,
  type SubscriptionsService,
} from '../../services/subscriptions/subscriptions-service';
import { registryKey } from './connector';
import { endpoint, uniqueName } from './fixtures';
import { consumeUntil, grantAcls, type ReceivedMessage, testKafka } from './kafka';
import { sharingHarness } from './sharing';

/** A registry client as the operator, who may register the derived subjects. */
export function operatorRegistry(): SchemaRegistry {
  return new SchemaRegistry({
    host: endpoint('SCHEMA_REGISTRY_URL'),
    auth: { username: 'lienthong-operator', password: registryKey('lienthong-operator') },
  });
}

/** Reads `count` derived messages as `principal`, from the start, in a new group the consumer agency may use. */
export async function readDerived(
  principal: string,
  topic: string,
  count: number,
): Promise<ReceivedMessage[]> {
  const consumer = testKafka('it-subscriptions-reader', { principal }).consumer({
    groupId: `${consumerGroupPrefixOf(topic)}${uniqueName('it')}`,
  });
  try {
    return await consumeUntil(consumer, topic, count, { timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }
}

/** An agreement entry as the agreements file holds it, valid; a test overrides what it is about. */
export function agreementEntry(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    consumer: 'HN-CUCTHUE',
    purpose: 'The tax department learns of what it must tax',
    legalBasis: 'Test basis',
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2040-01-01T00:00:00Z',
    approvedBy: 'The test',
    ...overrides,
  };
}

/**
 * A subscriptions service of a test file's own: the domain topics of a {@link sharingHarness}
 * (used only to create and publish them), the derived topics of `entries`, and the ACLs the bus
 * declares for them, applied to these names; the service runs as its own principal. With `shared`,
 * the domain is another harness's (a lookup harness's sharing service, whose store the audit
 * trail is in), which that harness sets up before and tears down after.
 */
export function subscriptionsHarness(
  entries: readonly Record<string, unknown>[],
  shared?: ReturnType<typeof sharingHarness>,
) {
  const domain = shared ?? sharingHarness({ partitions: 3 });
  const prefix = domain.topicPrefix;
  const groupPrefix = `${prefix}subscriptions`;
  const logger = createLogger({ name: 'it-subscriptions', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let service: SubscriptionsService | undefined;

  const harness = {
    domain,
    prefix,
    derivedTopic: (id: string) => derivedTopicOf(id, prefix),
    agreements: (content: readonly Record<string, unknown>[] = entries): readonly Agreement[] =>
      sharingAgreements({ agreements: content }, loadContracts()).all(),

    async setUp(): Promise<void> {
      if (!shared) await domain.setUp();
      const agreements = harness.agreements();
      const admin = domain.kafka.admin();
      await admin.connect();
      try {
        await ensurePolicyTopics(
          admin,
          agreements.map((a) => derivedTopicDeclaration(harness.derivedTopic(a.id))),
        );
      } finally {
        await admin.disconnect();
      }
      await grantAcls(
        agreementGrants(agreements, {
          domainTopics: Object.values(domain.topics),
          topicPrefix: prefix,
          groupPrefix,
        }),
      );
    },

    /** Starts the service on `agreements` (the harness's by default) with `clock`. */
    async start(
      clock: Clock,
      agreements: readonly Agreement[] = harness.agreements(),
      overrides: Partial<SubscriptionsDeps> = {},
    ): Promise<SubscriptionsService> {
      service = createSubscriptionsService({
        kafka: testKafka('it-subscriptions', { principal: SERVICE_PRINCIPALS.subscriptions, logger }),
        registry: operatorRegistry(),
        logger,
        agreements,
        topicPrefix: prefix,
        groupPrefix,
        clock,
        host: '127.0.0.1',
        port: 0,
        checkIntervalMs: 100,
        ...overrides,
      });
      await service.start();
      return service;
    },

    service(): SubscriptionsService {
      if (!service) throw new Error('The subscriptions service is not started');
      return service;
    },

    async stop(): Promise<void> {
      await service?.stop();
      service = undefined;
    },

    async tearDown(): Promise<void> {
      await harness.stop();
      if (!shared) await domain.tearDown();
    },
  };
  return harness;
}

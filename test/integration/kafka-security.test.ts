import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type LocalKafka } from '../../deploy/local/local-kafka';
import { stackConfig } from '../../deploy/local/stack';
import { busGrants, type KafkaConnection, SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import {
  type AclGrant,
  agencyGrants,
  applyAcls,
  checkAcls,
  lookupGrants,
  OPERATOR_PRINCIPAL,
  sharingGrants,
} from '../../services/platform/acl-policy';
import {
  ACKS_ALL,
  createKafka,
  createProducer,
  ensureTopics,
  withAdmin,
} from '../../services/platform/kafka';
import { type KafkaSecurity } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics, type TopicDeclaration } from '../../services/platform/topic-policy';
import { scratchDir, startPrivateBroker, uniqueName } from '../support/fixtures';
import { aclsEnforced, testConnection } from '../support/kafka';

/** Every `type`, `name` and `code` along an error's causes and aggregated errors. */
function errorKinds(error: unknown, depth = 0): string[] {
  if (depth > 6 || typeof error !== 'object' || error === null) return [];
  const e = error as { type?: unknown; name?: unknown; code?: unknown; cause?: unknown; errors?: unknown };
  const own = [e.type, e.name, e.code].filter((v): v is string => typeof v === 'string');
  const inner = [
    ...(e.cause !== undefined && e.cause !== error ? [e.cause] : []),
    ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : []),
  ];
  return [...own, ...inner.flatMap((i) => errorKinds(i, depth + 1))];
}

async function failure(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    return errorKinds(error);
  }
  throw new Error('expected a failure, and it succeeded');
}

/**
 * The broker's authentication, TLS and ACLs, on the real broker: the test stack's when it is
 * secured, else (a test container) a private broker from the same stack manager.
 */
describe('Kafka security', () => {
  const scratch = scratchDir('kafka-security');
  const suffix = uniqueName('it-sec');
  const topics = {
    tax: `${suffix}-tax`,
    vehicle: `${suffix}-vehicle`,
    deadLetter: `${suffix}-dead-letter`,
    audit: `${suffix}-audit`,
  };
  const quarantine = (topic: string) => `${topic}.quarantine`;
  const logger = createLogger({ name: 'it-security', level: 'silent' });
  let broker: LocalKafka | undefined;
  const clients: { disconnect(): Promise<void> }[] = [];

  const connection = (principal: string): KafkaConnection =>
    broker ? broker.connection(principal) : testConnection(principal);
  const kafkaWith = (security: KafkaSecurity, brokers = connection(OPERATOR_PRINCIPAL).brokers): Kafka =>
    createKafka({
      brokers,
      security,
      clientId: 'it-security',
      logger,
      connectionTimeout: 3_000,
      retry: { retries: 0 },
    });
  const kafkaAs = (principal: string): Kafka => kafkaWith(connection(principal).security);
  const producerAs = async (principal: string): Promise<Producer> => {
    const producer = createProducer(kafkaAs(principal), { retry: { retries: 1 } });
    clients.push(producer);
    await producer.connect();
    return producer;
  };
  const send = (producer: Producer, topic: string) =>
    producer.send({ topic, acks: ACKS_ALL, messages: [{ key: 'k', value: 'v' }] });
  const grant = (grants: readonly AclGrant[]) =>
    withAdmin(connection(OPERATOR_PRINCIPAL), 'it-security', (admin) => applyAcls(admin, grants));
  const operatorSecurity = () =>
    connection(OPERATOR_PRINCIPAL).security as Extract<KafkaSecurity, { protocol: 'SASL_SSL' }>;

  beforeAll(async () => {
    // A broker whose controller listener this file knows: the test stack's own, or a private one.
    if (!aclsEnforced() || !process.env.LIENTHONG_KAFKA_CONTROLLER)
      broker = await startPrivateBroker(join(scratch.path, 'kafka'));
    const declared: TopicDeclaration[] = [
      { topic: topics.tax, kind: 'domain', numPartitions: 1 },
      { topic: quarantine(topics.tax), kind: 'quarantine', numPartitions: 1 },
      { topic: topics.vehicle, kind: 'domain', numPartitions: 1 },
      { topic: quarantine(topics.vehicle), kind: 'quarantine', numPartitions: 1 },
      { topic: topics.deadLetter, kind: 'dead-letter', numPartitions: 1 },
      { topic: topics.audit, kind: 'audit', numPartitions: 1 },
    ];
    await withAdmin(connection(OPERATOR_PRINCIPAL), 'it-security', (admin) =>
      ensurePolicyTopics(admin, declared),
    );
    // The same functions that declare the bus's ACLs, on this file's topics.
    await grant([
      ...agencyGrants('tax', topics.tax, quarantine(topics.tax), {
        quarantineGroupPrefix: `${suffix}-quarantine-tax-`,
        redriveLogTopic: topics.audit,
      }),
      ...agencyGrants('vehicle', topics.vehicle, quarantine(topics.vehicle), {
        quarantineGroupPrefix: `${suffix}-quarantine-vehicle-`,
        redriveLogTopic: topics.audit,
      }),
      ...sharingGrants(SERVICE_PRINCIPALS.sharing, {
        domainTopics: [topics.tax, topics.vehicle],
        deadLetterTopic: topics.deadLetter,
        changesTopic: `${suffix}-changes`,
        groupPrefixes: [suffix],
      }),
      ...lookupGrants(SERVICE_PRINCIPALS.lookup, {
        domainTopics: [topics.tax, topics.vehicle],
        auditTopic: topics.audit,
        lineageGroupPrefix: suffix,
      }),
    ]);
  });

  afterAll(async () => {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await broker?.stop();
    scratch.remove();
  });

  it('holds every ACL the bus declares, applied by the stack manager', async () => {
    const registryTopic = stackConfig(process.env).SCHEMA_REGISTRY_TOPIC;
    if (broker) await broker.addMissingPrincipals();
    const missing = await withAdmin(connection(OPERATOR_PRINCIPAL), 'it-security', async (admin) => {
      if (broker) await applyAcls(admin, busGrants(registryTopic));
      return checkAcls(admin, busGrants(registryTopic));
    });
    expect(missing).toEqual([]);
  });

  it("lets an agency write its own topic and its quarantine, and refuses another agency's topic", async () => {
    const tax = await producerAs('tax');
    const [written] = await send(tax, topics.tax);
    expect(written?.errorCode).toBe(0);
    await send(tax, quarantine(topics.tax));
    expect(await failure(send(tax, topics.vehicle))).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await failure(send(tax, quarantine(topics.vehicle)))).toContain('TOPIC_AUTHORIZATION_FAILED');
  });

  it("lets an agency read back its own quarantine in its own groups, and not another agency's", async () => {
    await send(await producerAs('tax'), quarantine(topics.tax));
    const tax = kafkaAs('tax');
    const own = tax.consumer({ groupId: `${suffix}-quarantine-tax-1` });
    clients.push(own);
    const read = new Promise<string | undefined>((resolve, reject) => {
      void own.connect().then(async () => {
        await own.subscribe({ topic: quarantine(topics.tax), fromBeginning: true });
        await own.run({ eachMessage: async ({ message }) => resolve(message.value?.toString()) });
      }, reject);
    });
    expect(await read).toBe('v');
    // The vehicle office's quarantine, even in a group the tax connector may use: not authorized.
    const foreign = tax.consumer({ groupId: `${suffix}-quarantine-tax-2`, retry: { retries: 0 } });
    clients.push(foreign);
    await foreign.connect();
    expect(
      await failure(foreign.subscribe({ topic: quarantine(topics.vehicle), fromBeginning: true })),
    ).toContain('TOPIC_AUTHORIZATION_FAILED');
  });

  it('refuses the sharing and lookup principals a write to a domain topic, and lets them write their own', async () => {
    for (const principal of [SERVICE_PRINCIPALS.sharing, SERVICE_PRINCIPALS.lookup]) {
      const producer = await producerAs(principal);
      expect(await failure(send(producer, topics.tax))).toContain('TOPIC_AUTHORIZATION_FAILED');
    }
    await send(await producerAs(SERVICE_PRINCIPALS.sharing), topics.deadLetter);
    await send(await producerAs(SERVICE_PRINCIPALS.lookup), topics.audit);
  });

  it('lets the sharing service read a domain topic in its own groups only', async () => {
    await send(await producerAs('vehicle'), topics.vehicle);
    const sharing = kafkaAs(SERVICE_PRINCIPALS.sharing);
    // A group that is not the sharing service's: the join is refused, and the consumer crashes.
    const foreign = sharing.consumer({ groupId: uniqueName('it-read'), retry: { retries: 0 } });
    clients.push(foreign);
    const crashed = new Promise<unknown>((resolve) => {
      foreign.on(foreign.events.CRASH, ({ payload }) => resolve(payload.error));
    });
    await foreign.connect();
    await foreign.subscribe({ topic: topics.vehicle, fromBeginning: true });
    await foreign.run({ eachMessage: async () => undefined });
    // The broker answers FindCoordinator with GROUP_AUTHORIZATION_FAILED; kafkajs reports that as
    // no coordinator found, having dropped the broker's error. The group of its own, below, is found.
    expect(errorKinds(await crashed)).toContain('KafkaJSGroupCoordinatorNotFound');
    const consumer = sharing.consumer({ groupId: `${suffix}-group` });
    clients.push(consumer);
    const read = new Promise<string | undefined>((resolve, reject) => {
      void consumer.connect().then(async () => {
        await consumer.subscribe({ topic: topics.vehicle, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString()) });
      }, reject);
    });
    expect(await read).toBe('v');
  });

  it('refuses an agency the creation of a topic, with a problem that says who creates them', async () => {
    const kinds = await withAdmin(connection('tax'), 'it-security', (admin) =>
      failure(ensureTopics(admin, [{ topic: `${suffix}-made-by-tax`, numPartitions: 1 }])),
    );
    expect(kinds).toContain('KAFKA_NOT_AUTHORIZED');
  });

  it('refuses a client that does not speak TLS, before any request', async () => {
    const admin = kafkaWith({ protocol: 'PLAINTEXT' }).admin();
    const kinds = await failure(admin.connect());
    expect(kinds.some((k) => /^KafkaJSConnection(Closed)?Error$/.test(k))).toBe(true);
    expect(kinds).not.toContain('KafkaJSSASLAuthenticationError');
  });

  it('refuses a TLS client that does not authenticate', async () => {
    // kafkajs with TLS and no SASL sends its requests unauthenticated; the broker closes on it.
    const anonymous = new Kafka({
      brokers: connection(OPERATOR_PRINCIPAL).brokers,
      clientId: 'it-security-anonymous',
      ssl: { ca: [operatorSecurity().ca ?? ''] },
      connectionTimeout: 3_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const admin = anonymous.admin();
    const kinds = await failure(admin.connect().then(() => admin.listTopics()));
    await admin.disconnect();
    expect(kinds.some((k) => /^KafkaJSConnection(Closed)?Error$/.test(k))).toBe(true);
  });

  it('refuses a wrong password', async () => {
    const admin = kafkaWith({ ...operatorSecurity(), password: 'not-the-password' }).admin();
    expect(await failure(admin.connect())).toContain('KafkaJSSASLAuthenticationError');
  });

  it('refuses an unknown user', async () => {
    const admin = kafkaWith({ ...operatorSecurity(), username: 'nobody' }).admin();
    expect(await failure(admin.connect())).toContain('KafkaJSSASLAuthenticationError');
  });

  it('fails TLS for a client that does not trust the CA, and verifies the host name', async () => {
    const { ca: _ca, ...untrusting } = operatorSecurity();
    const kinds = await failure(kafkaWith(untrusting).admin().connect());
    expect(kinds).toContain('KafkaJSConnectionError');
    expect(kinds.some((k) => /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(k))).toBe(true);
    // The certificate names 127.0.0.1 and localhost: both pass the client's host name check.
    const port = connection(OPERATOR_PRINCIPAL).brokers[0]?.split(':').at(-1);
    const byName = kafkaWith(operatorSecurity(), [`localhost:${port}`]).admin();
    await byName.connect();
    await byName.disconnect();
  });

  it('keeps the controller listener to the nodes: a client with the CA and a password is refused', async () => {
    const controller = broker?.controllerEndpoint ?? process.env.LIENTHONG_KAFKA_CONTROLLER ?? '';
    const admin = kafkaWith(operatorSecurity(), [controller]).admin();
    // Mutual TLS: without the node certificate the handshake is refused, before any SASL.
    const kinds = await failure(admin.connect());
    expect(kinds).toContain('KafkaJSConnectionError');
    // The broker's TLS alert, not a closed port: the listener is there and wants a certificate.
    expect(
      kinds.some((k) => /_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE)$/.test(k)),
    ).toBe(true);
  });
});

import { type Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { connectionRetryOptions } from '../../../connectors/runtime/publisher';
import { createRenewingProducer } from '../../../services/platform/kafka';
import { createLogger } from '../../../services/platform/logger';
import { ensurePolicyTopics } from '../../../services/platform/topic-policy';
import { auditTopicDeclaration, createAuditRelay } from '../../../services/lookup/audit-relay';
import { createAuditTrail } from '../../../services/lookup/audit-trail';
import { endpoint, uniqueName } from '../../support/fixtures';
import { readTopic, startTestProxy, testKafka } from '../../support/kafka';
import { attemptsPerSend, faultEpisodes, produceFaultQueue, totalInjected } from '../../support/kafka-proxy';
import { refusalEntry, testKeys } from '../../support/lookup';

/**
 * The audit relay copies the trail to Kafka at least once, in chain order: with its produce
 * requests failed by a proxy, and Kafka unreachable when it starts, every record must still reach
 * the topic, with the content the store holds.
 */

const SEND_TIMEOUT_MS = 1_000;
const ATTEMPTS = attemptsPerSend(SEND_TIMEOUT_MS);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const entry = (i: number) => refusalEntry(`officer-${i % 7}`);

describe('the audit relay, with its produce requests failed', () => {
  const logger = createLogger({ name: 'it-audit-relay', level: 'silent' });
  const topic = uniqueName('it-audit-relay');
  const dbName = uniqueName('it_audit_relay').replace(/-/g, '_');
  const proxy = startTestProxy();
  const faults = produceFaultQueue(proxy);
  const mongo = new MongoClient(endpoint('MONGODB_URI'));
  const direct: Kafka = testKafka('it-audit-relay-read', {
    logger,
  });
  const producer = createRenewingProducer(
    testKafka('it-audit-relay', {
      logger,
      connectionTimeout: 1_000,
      retry: connectionRetryOptions(),
      socketFactory: proxy.socketFactory,
    }),
    { logger, sendTimeoutMs: SEND_TIMEOUT_MS },
  );
  const db = mongo.db(dbName);
  const trail = createAuditTrail({
    db,
    logger,
    sealKey: testKeys(),
    sealEveryMs: 3_600_000,
    writeTimeoutMs: 10_000,
  });
  const relay = createAuditRelay({ trail, db, producer, topic, logger });

  beforeAll(async () => {
    await mongo.connect();
    const admin = direct.admin();
    await admin.connect();
    await ensurePolicyTopics(admin, [auditTopicDeclaration(topic)]);
    await admin.disconnect();
    await trail.open();
  });
  afterAll(async () => {
    await relay.stop();
    await producer.disconnect();
    await trail.close();
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
    await proxy.close();
  });

  let appended = 0;
  const appendAndWait = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 1) await trail.append(entry((appended += 1)));
    while (relay.published() < trail.head().seq) await sleep(10);
  };

  it('starts while Kafka cannot be reached, and copies the trail once it can, without a restart', async () => {
    proxy.refuse(true);
    try {
      await expect(producer.connect()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
      await relay.start();
      for (let i = 0; i < 5; i += 1) await trail.append(entry((appended += 1)));
      expect(relay.published()).toBe(0);
    } finally {
      proxy.refuse(false);
    }
    await appendAndWait(1);
    expect(relay.published()).toBe(6);
  });

  it('copies every record at least once over more than 50 faults', async () => {
    // 53 episodes: 33 that kafkajs's retries get over, 20 that end a send in doubt.
    const episodes = faultEpisodes({ attempts: ATTEMPTS, timeoutMs: SEND_TIMEOUT_MS, quick: 11, slow: 5 });
    const before = totalInjected(proxy.injected());
    for (const [i, episode] of episodes.entries()) {
      faults.push(...episode);
      await appendAndWait(1 + (i % 3));
    }
    expect(totalInjected(proxy.injected()) - before).toBeGreaterThanOrEqual(50);

    const head = trail.head().seq;
    const stored = new Map((await trail.range(1, head)).map((r) => [r.seq, r.hash]));
    expect(stored.size).toBe(head);
    const copies = await readTopic(direct, topic);
    const copied = new Map<number, string>();
    for (const m of copies) {
      const record = JSON.parse(m.value ?? '{}') as { seq: number; hash: string };
      expect(m.key).toBe(String(record.seq));
      // A copy sent twice is the same record: the chain hash covers its content.
      expect(copied.get(record.seq) ?? record.hash).toBe(record.hash);
      copied.set(record.seq, record.hash);
    }
    expect(copied).toEqual(stored);
    process.stdout.write(
      `faults ${JSON.stringify(proxy.injected())}; records ${head}, copies ${copies.length}\n`,
    );
  }, 120_000);
});

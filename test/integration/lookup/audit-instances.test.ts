import { MongoClient } from 'mongodb';
import { createRenewingProducer } from '../../../services/platform/kafka';
import { createLogger } from '../../../services/platform/logger';
import { ensurePolicyTopics } from '../../../services/platform/topic-policy';
import { type AuditRecord } from '../../../services/lookup/audit-chain';
import {
  type AuditRelay,
  auditTopicDeclaration,
  createAuditRelay,
  readAuditCopy,
} from '../../../services/lookup/audit-relay';
import { type AuditTrail, createAuditTrail } from '../../../services/lookup/audit-trail';
import { endpoint, uniqueName } from '../../support/fixtures';
import { readTopic, testKafka } from '../../support/kafka';
import { refusalEntry, testKeys } from '../../support/lookup';

/**
 * Two instances of the lookup service's trail and relay on one store and one audit topic, as two
 * lookup processes run them (test/faults/lookup-instances.test.ts runs the processes): their
 * appends interleave while the copy lags, and the holder of the relay lease stops half-way.
 */

const TERM_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const entry = (instance: number, i: number) => refusalEntry(`officer-${instance}-${i}`, 'HN-PC08');

const logger = createLogger({ name: 'it-audit-instances', level: 'silent' });
const topic = uniqueName('it-audit-instances');
const dbName = uniqueName('it_audit_instances').replace(/-/g, '_');
const mongo = new MongoClient(endpoint('MONGODB_URI'));
const kafka = testKafka('it-audit-instances', { logger });
const sealKey = testKeys();
const db = mongo.db(dbName);
const instances = [0, 1].map(() => {
  const trail = createAuditTrail({ db, logger, sealKey, sealEveryMs: 3_600_000, writeTimeoutMs: 10_000 });
  const producer = createRenewingProducer(kafka, { logger });
  const relay = createAuditRelay({ trail, db, producer, topic, logger, termMs: TERM_MS });
  return { trail, producer, relay, conflicts: 0 };
});

beforeAll(async () => {
  await mongo.connect();
  const admin = kafka.admin();
  await admin.connect();
  await ensurePolicyTopics(admin, [auditTopicDeclaration(topic)]);
  await admin.disconnect();
  for (const i of instances) {
    await i.trail.open();
    i.trail.onConflict(() => (i.conflicts += 1));
    await i.producer.connect();
    await i.relay.start();
  }
});

afterAll(async () => {
  for (const i of instances) {
    await i.relay.stop();
    await i.producer.disconnect();
  }
  await db.dropDatabase().catch(() => undefined);
  await mongo.close();
});

/** `count` appends on each instance at once, in `rounds` waves. */
async function appendOnBoth(
  on: { trail: AuditTrail }[],
  rounds: number,
  count: number,
): Promise<AuditRecord[]> {
  const written: AuditRecord[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const waves = on.flatMap((instance, n) =>
      Array.from({ length: count }, (_, i) => instance.trail.append(entry(n, r * count + i))),
    );
    written.push(...(await Promise.all(waves)));
  }
  return written;
}

async function copied(relay: AuditRelay, head: number): Promise<void> {
  while (relay.published() < head) await sleep(20);
}

it('keeps one chain and one complete copy, each record sent once, across two instances', async () => {
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const first = await appendOnBoth(instances, 10, 20);
  expect(new Set(first.map((r) => r.seq)).size).toBe(first.length);
  // Sealing moves each head over the other's records; the holder of the lease copies them all.
  await a.trail.seal();
  await b.trail.seal();
  while (Math.max(a.relay.published(), b.relay.published()) < first.length) await sleep(20);
  const holder = a.relay.published() >= first.length ? a : b;
  const other = holder === a ? b : a;

  // The holder stops (its lease is given up); the other takes the copy over where it stood.
  await holder.relay.stop();
  const second = await appendOnBoth([other], 5, 20);
  await other.trail.seal();
  await copied(other.relay, first.length + second.length);

  const head = first.length + second.length;
  const report = await other.trail.verify({ full: true });
  expect(report).toMatchObject({ ok: true, lastSeq: head, checked: head });
  const copy = await readAuditCopy(kafka, topic);
  expect([...copy.hashes.keys()].sort((x, y) => x - y)).toEqual(
    Array.from({ length: head }, (_, i) => i + 1),
  );
  const messages = (await readTopic(kafka, topic)).filter((m) => !m.key?.startsWith('seal-'));
  // One relay at a time: no record is copied twice (a send in doubt may repeat one, none here).
  expect(messages.length).toBe(head);
  process.stdout.write(
    `records ${head}, conflicts ${a.conflicts} / ${b.conflicts}, record messages ${messages.length}\n`,
  );
}, 60_000);

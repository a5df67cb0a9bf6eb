/**
 * `npm run test:faults`: two lookup services, each a process of its own on one database and one
 * audit topic, answer officers' lookups under load; one is killed with SIGKILL half-way, the other
 * is stopped as an operator stops it.
 *
 * It passes when the two instances kept one audit chain that verifies whole against its Kafka
 * copy (no gap, no breach, every seal valid), when every answered request has its own record,
 * once, with the digest of the body it received, and when the Kafka copy holds every record of
 * the chain. It prints the answers of each instance, the chain's length, the write conflicts
 * between the instances and the copies sent to Kafka twice.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuditRecord, sha256Hex } from '../../services/lookup/audit-chain';
import { readAuditCopy } from '../../services/lookup/audit-relay';
import { AUDIT_RECORDS, createAuditTrail } from '../../services/lookup/audit-trail';
import { createLogger } from '../../services/platform/logger';
import { readTopic } from '../support/kafka';
import { lookupHarness } from '../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../support/lookup-story';
import { STORY } from '../support/story';

const INSTANCES = 2;
/** Requests in flight per instance. */
const CONCURRENCY = 8;
const BOTH_MS = 12_000;
const RELAY_TERM_MS = 2_000;
/** Longer than two terms of the relay lease: the survivor holds it by the end. */
const AFTER_KILL_MS = 6_000;

const log = (line: string): void => {
  process.stderr.write(`[lookup-instances] ${line}\n`);
};

const harness = lookupHarness({ auditTopic: true });
const events = lookupStoryEvents();
const { transfer, amendment } = OPEN_DOSSIERS;

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  // The in-process service of the harness is not one of the instances under test.
  await harness.stopLookup();
}, 180_000);

afterAll(async () => {
  await harness.tearDown();
});

/** What the test asked and what came back. */
interface Sent {
  instance: number;
  traceId: string;
  url: string;
  status: number;
  seq: number | null;
  digest: string;
}

/** The lookups an officer of the traffic police may make for the transfer dossier, and one refused. */
const REQUESTS = [
  { url: `/v1/citizens/${STORY.buyer}`, agency: 'HN-PC08', dossier: transfer.id },
  { url: `/v1/vehicles/${encodeURIComponent(STORY.plate)}`, agency: 'HN-PC08', dossier: transfer.id },
  { url: `/v1/dossiers/${transfer.id}`, agency: 'HN-PC08', dossier: transfer.id },
  // Another agency's dossier: refused, and audited all the same.
  { url: `/v1/enterprises/${STORY.enterprise}`, agency: 'HN-PC08', dossier: amendment.id },
] as const;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  // `name{service="lookup"} 12`: the registry's default label, then the value.
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

it(`keeps one verifiable audit chain across ${INSTANCES} lookup instances, one killed`, async () => {
  const instances: { child: ChildProcess; url: string }[] = [];
  // Short terms of the relay lease, so that the survivor takes the copy over within the run.
  for (let i = 0; i < INSTANCES; i += 1)
    instances.push(
      await harness.spawnLookup({
        LOOKUP_AUDIT_RELAY_TERM_MS: String(RELAY_TERM_MS),
        // A machine shared with other work may hold a write for seconds: only conflicts are tested.
        LOOKUP_AUDIT_WRITE_TIMEOUT_MS: '10000',
        // One officer's 8 loops pass the default 600 lookups a minute within seconds, and a 429 is
        // neither answered nor audited: the limiter has tests of its own, this one is the chain's.
        LOOKUP_RATE_OFFICER_PER_MINUTE: '10000000',
        LOOKUP_RATE_AGENCY_PER_MINUTE: '100000000',
        LOOKUP_RATE_CLIENT_PER_MINUTE: '100000000',
      }),
    );
  const tokens = new Map(REQUESTS.map((r) => [r.agency, harness.officer(r.agency)]));
  const sent: Sent[] = [];
  const unanswered = Array.from({ length: INSTANCES }, () => 0);
  const stopped = Array.from({ length: INSTANCES }, () => false);

  const worker = async (instance: number, k: number): Promise<void> => {
    for (let n = k; !stopped[instance]; n += CONCURRENCY) {
      const request = REQUESTS[n % REQUESTS.length] as (typeof REQUESTS)[number];
      const traceId = randomBytes(16).toString('hex');
      try {
        const response = await fetch(`${instances[instance]?.url}${request.url}`, {
          headers: {
            authorization: `Bearer ${tokens.get(request.agency)}`,
            'x-dossier-id': request.dossier,
            traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
          },
        });
        const body = await response.text();
        const seq = response.headers.get('x-audit-record');
        sent.push({
          instance,
          traceId,
          url: request.url,
          status: response.status,
          seq: seq === null ? null : Number(seq),
          digest: sha256Hex(body),
        });
      } catch {
        // The killed instance: a request without an answer has no claim on the trail.
        unanswered[instance] = (unanswered[instance] ?? 0) + 1;
        await sleep(50);
      }
    }
  };
  const workers = instances.flatMap((_, i) => Array.from({ length: CONCURRENCY }, (_w, k) => worker(i, k)));

  await sleep(BOTH_MS);
  const victim = instances[1] as { child: ChildProcess; url: string };
  const conflicts = [await metric(victim.url, 'lookup_audit_conflicts_total')];
  victim.child.kill('SIGKILL');
  log(`killed instance 1 (pid ${victim.child.pid}) after ${BOTH_MS} ms`);
  await sleep(AFTER_KILL_MS);
  stopped.fill(true);
  await Promise.all(workers);
  const survivor = instances[0] as { child: ChildProcess; url: string };
  conflicts.unshift(await metric(survivor.url, 'lookup_audit_conflicts_total'));
  // Stopped as an operator stops it: the last batch, the last seal and the rest of the copy.
  const exited = new Promise((done) => survivor.child.once('exit', done));
  survivor.child.kill('SIGTERM');
  await exited;

  const db = harness.sharing.db();
  const records = db.collection<AuditRecord>(AUDIT_RECORDS);
  const logger = createLogger({ name: 'lookup-instances', level: 'silent' });
  const trail = createAuditTrail({
    db,
    logger,
    trustedKeys: [harness.sealKey.publicKey],
    sealEveryMs: 3_600_000,
    writeTimeoutMs: 30_000,
    readCopy: () => readAuditCopy(harness.sharing.kafka, harness.auditTopic),
  });
  await trail.open();
  const report = await trail.verify({ full: true });
  const copy = await readAuditCopy(harness.sharing.kafka, harness.auditTopic);
  const messages = await readTopic(harness.sharing.kafka, harness.auditTopic);
  const stored = await records
    .find({}, { projection: { seq: 1, traceId: 1, answerDigest: 1, status: 1 } })
    .toArray();

  const answered = sent.filter((s) => s.status !== 503);
  const perInstance = instances.map((_, i) => answered.filter((s) => s.instance === i).length);
  const copiedSeqs = [...copy.hashes.keys()].sort((a, b) => a - b);
  const recordMessages = messages.filter((m) => !m.key?.startsWith('seal-')).length;
  log(
    `answers per instance ${perInstance.join(' / ')} (503: ${sent.length - answered.length}, ` +
      `no answer: ${unanswered.join(' / ')}); chain ${report.lastSeq} records, sealed to ${report.sealedSeq}; ` +
      `verify ${report.ok ? 'ok' : JSON.stringify(report.breaches.slice(0, 5))}; ` +
      `write conflicts per instance ${conflicts.join(' / ')}; Kafka copy ${copiedSeqs.length} records ` +
      `in ${recordMessages} record messages (${recordMessages - copiedSeqs.length} sent twice), ` +
      `sealed to ${report.copy?.sealedSeq}`,
  );

  expect(perInstance.every((n) => n > 0)).toBe(true);
  // Each instance answers while the other takes the same positions: a conflict is chained again.
  expect(sent.length - answered.length).toBe(0);
  expect(report).toMatchObject({ ok: true, breaches: [], checked: report.lastSeq });
  expect(report.copy).toMatchObject({ compared: true, lastSeq: report.lastSeq });
  expect(report.sealedSeq).toBe(report.lastSeq);
  // The copy holds every record of the chain, not only its last: no gap in it.
  expect(copiedSeqs).toEqual(Array.from({ length: report.lastSeq }, (_, i) => i + 1));

  // Every answer names its own record, which holds its trace and the digest of its body, once.
  const byTrace = new Map<string, number[]>();
  for (const r of stored) if (r.traceId) byTrace.set(r.traceId, [...(byTrace.get(r.traceId) ?? []), r.seq]);
  const bySeq = new Map(stored.map((r) => [r.seq, r]));
  const wrong = answered.filter((s) => {
    const record = s.seq === null ? undefined : bySeq.get(s.seq);
    return (
      !record ||
      record.traceId !== s.traceId ||
      record.status !== s.status ||
      (s.status === 200 && record.answerDigest !== s.digest)
    );
  });
  expect(wrong).toEqual([]);
  const twice = answered.filter((s) => (byTrace.get(s.traceId) ?? []).length !== 1);
  expect(twice).toEqual([]);
  expect(new Set(answered.map((s) => s.seq)).size).toBe(answered.length);
}, 300_000);

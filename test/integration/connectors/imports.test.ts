import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { aclEntries } from '../../../services/platform/acl-policy';
import { withAdmin } from '../../../services/platform/kafka';
import { createLogger } from '../../../services/platform/logger';
import { agencyPrincipal } from '../../../deploy/local/topics';
import { connectorHarness, registryClient, send } from '../../support/connector';
import { readTopic, startTestProxy, testConnection, testKafka } from '../../support/kafka';
import { API_KEYS, type ProxyFault } from '../../support/kafka-proxy';

/**
 * File imports on the real broker: a Kafka outage and a send in doubt are retried in the running
 * process from the checkpoint; a refusal for good fails the import with a stable code; a corrupt
 * status fails that import only; spool files go once their retention is over, by the clock.
 */

const SEND_TIMEOUT_MS = 1_000;
const NDJSON = 'application/x-ndjson';
/** The rows of one published chunk: what one failure may send twice. */
const CHUNK_ROWS = 500;

type Harness = ReturnType<typeof connectorHarness>;
type Status = Record<string, unknown> & { state?: string; rowsDone?: number; retries?: number };

const ndjson = (rows: readonly unknown[]): string => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** The eventIds the connector derives for `rows`, as the tax mapping gives them. */
const eventIdsOf = (rows: readonly unknown[]): string[] =>
  rows.map((row) => {
    const mapped = taxConnector.map(row as never, { now: Date.now() });
    if (!mapped.ok) throw new Error('a generated row does not map');
    return mapped.value.event.eventId;
  });

async function upload(harness: Harness, rows: readonly unknown[]): Promise<string> {
  const answer = await send(harness.url(), '/v1/imports', {
    apiKey: harness.apiKey,
    contentType: NDJSON,
    body: ndjson(rows),
  });
  expect(answer.status).toBe(202);
  return answer.body.id as string;
}

async function statusOf(harness: Harness, id: string): Promise<Status> {
  const answer = await send(harness.url(), `/v1/imports/${id}`, { method: 'GET', apiKey: harness.apiKey });
  expect(answer.status).toBe(200);
  return answer.body as Status;
}

/** Reads the import's status every 50 ms until `done` holds, for up to a minute; then the last one. */
async function waitFor(harness: Harness, id: string, done: (s: Status) => boolean): Promise<Status> {
  let status = await statusOf(harness, id);
  for (let i = 0; i < 1_200 && !done(status); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await statusOf(harness, id);
  }
  return status;
}

const ended = (s: Status) => s.state === 'completed' || s.state === 'failed';

/** How many messages of `topic` carry each eventId, decoded with the official registry client. */
async function eventIdsIn(kafka: Kafka, topic: string): Promise<Map<string, number>> {
  const registry = registryClient();
  const counts = new Map<string, number>();
  for (const m of await readTopic(kafka, topic)) {
    const { eventId } = (await registry.decode(m.rawValue as Buffer)) as { eventId: string };
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Checks what an import of `rows` added to the topic (`after` less `before`): every row at least
 * once, the rows acknowledged before the first failure (`acknowledged`) exactly once, and at most
 * one chunk more per failure: a chunk in doubt is sent again, and a send given up may still land.
 */
function expectAtLeastOnce(
  rows: readonly unknown[],
  counts: { before: Map<string, number>; after: Map<string, number> },
  acknowledged: number,
  failures: number,
): void {
  const ids = eventIdsOf(rows);
  const added = ids.map((id) => (counts.after.get(id) ?? 0) - (counts.before.get(id) ?? 0));
  expect(added.filter((n) => n < 1)).toEqual([]);
  expect(added.slice(0, acknowledged).filter((n) => n !== 1)).toEqual([]);
  const total = [...counts.after.values()].reduce((a, b) => a + b, 0);
  const totalBefore = [...counts.before.values()].reduce((a, b) => a + b, 0);
  expect(total - totalBefore).toBeLessThanOrEqual(rows.length + failures * CHUNK_ROWS);
}

const quiet = () => createLogger({ name: 'it', level: 'silent' });

describe('an import whose Kafka fails for a while', () => {
  const proxy = startTestProxy();
  const harness = connectorHarness(taxConnector, {
    socketFactory: proxy.socketFactory,
    sendTimeoutMs: SEND_TIMEOUT_MS,
  });
  let kafka: Kafka;
  /** Records of the produce requests let through so far (the connector sends one partition a request). */
  let passed = 0;
  /** The fault of every produce request once `after` records have been let through, until it is lifted. */
  let plan: { after: number; fault: ProxyFault } | undefined;

  beforeAll(async () => {
    proxy.onRequest((request) => {
      if (request.apiKey !== API_KEYS.PRODUCE) return undefined;
      if (plan !== undefined && passed >= plan.after) return plan.fault;
      passed += request.produce?.records ?? 0;
      return undefined;
    });
    await harness.start();
    kafka = testKafka('it-imports-read', { logger: quiet() });
  });
  afterAll(async () => {
    await harness.dispose();
    await proxy.close();
  });

  it('waits out an outage in the running process and resumes from its checkpoint, resending nothing acknowledged', async () => {
    const before = await eventIdsIn(kafka, harness.topic);
    const rows = generateRecords('tax', 5_000, 71);
    // Three chunks go through; then every produce request is reset before the broker sees it
    // (Kafka cannot be reached) until the import has failed twice.
    plan = { after: passed + 3 * CHUNK_ROWS, fault: { kind: 'reset' } };
    const id = await upload(harness, rows);
    const paused = await waitFor(harness, id, (s) => (s.retries ?? 0) >= 2 || ended(s));
    plan = undefined;
    expect(paused).toMatchObject({
      state: 'running',
      rowsDone: 3 * CHUNK_ROWS,
      lastError: { code: 'KAFKA_UNAVAILABLE' },
    });
    expect(typeof paused.retryAt).toBe('string');

    const done = await waitFor(harness, id, ended);
    expect(done).toMatchObject({
      state: 'completed',
      rows: 5_000,
      rowsDone: 5_000,
      accepted: 5_000,
      rejected: 0,
    });
    expect(done.retries).toBeGreaterThanOrEqual(2);
    expect(done).not.toHaveProperty('retryAt');
    const after = await eventIdsIn(kafka, harness.topic);
    expectAtLeastOnce(rows, { before, after }, 3 * CHUNK_ROWS, done.retries as number);
  }, 120_000);

  it('sends a chunk whose acknowledgement was lost again, keyed by its eventIds', async () => {
    const before = await eventIdsIn(kafka, harness.topic);
    const rows = generateRecords('tax', 3_000, 72);
    // From the second chunk on the broker writes every request, but no answer comes back, until
    // the import has failed once: its sends end in doubt.
    plan = { after: passed + CHUNK_ROWS, fault: { kind: 'swallow', then: 'reset' } };
    const id = await upload(harness, rows);
    const paused = await waitFor(harness, id, (s) => (s.retries ?? 0) >= 1 || ended(s));
    plan = undefined;
    expect(paused).toMatchObject({
      state: 'running',
      rowsDone: CHUNK_ROWS,
      lastError: { code: 'KAFKA_UNAVAILABLE' },
    });

    const done = await waitFor(harness, id, ended);
    expect(done).toMatchObject({ state: 'completed', rowsDone: 3_000, accepted: 3_000 });
    const after = await eventIdsIn(kafka, harness.topic);
    expectAtLeastOnce(rows, { before, after }, CHUNK_ROWS, done.retries as number);
    // The swallowed chunk was written, and then written again: an at-least-once resend, not a loss.
    const resent = eventIdsOf(rows.slice(CHUNK_ROWS, 2 * CHUNK_ROWS)).filter(
      (id) => (after.get(id) ?? 0) - (before.get(id) ?? 0) > 1,
    );
    expect(resent.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('an import that Kafka refuses for good', () => {
  const harness = connectorHarness(taxConnector);
  beforeAll(() => harness.start());
  afterAll(() => harness.dispose());

  it('fails with KAFKA_NOT_AUTHORIZED when the connector may no longer write its topic', async () => {
    // The operator withdraws the connector's Write on its topic: a refusal no retry gets over.
    await withAdmin(testConnection(), 'it-imports-revoke', (admin) =>
      admin.deleteAcls({
        filters: aclEntries([
          {
            principal: agencyPrincipal(taxConnector.topic),
            resource: 'topic',
            name: harness.topic,
            pattern: 'literal',
            operations: ['Write'],
          },
        ]),
      }),
    );
    const id = await upload(harness, generateRecords('tax', 50, 73));
    const done = await waitFor(harness, id, ended);
    expect(done).toMatchObject({ state: 'failed', failureCode: 'KAFKA_NOT_AUTHORIZED', rowsDone: 0 });
    expect(typeof done.failure).toBe('string');
    expect(typeof done.finishedAt).toBe('string');
  }, 60_000);
});

describe('a connector with a corrupt import status', () => {
  const harness = connectorHarness(taxConnector);
  afterAll(() => harness.dispose());

  it('fails that import with IMPORT_STATUS_CORRUPT, starts, resumes the others and takes new ones', async () => {
    await harness.start();
    const torn = await upload(harness, generateRecords('tax', 20, 74));
    const empty = await upload(harness, generateRecords('tax', 20, 75));
    expect(await waitFor(harness, torn, ended)).toMatchObject({ state: 'completed' });
    expect(await waitFor(harness, empty, ended)).toMatchObject({ state: 'completed' });
    await harness.stop();

    // One status torn in the middle, one empty (what a crash leaves of a file that was never fsynced).
    const tornFile = join(harness.spoolDir, `${torn}.json`);
    const tornBytes = readFileSync(tornFile).subarray(0, 40);
    writeFileSync(tornFile, tornBytes);
    truncateSync(join(harness.spoolDir, `${empty}.json`), 0);
    // And an import a previous process had queued: its file and its status, as the connector writes them.
    const queued = randomUUID();
    const queuedRows = generateRecords('tax', 30, 76);
    writeFileSync(join(harness.spoolDir, `${queued}.data`), ndjson(queuedRows));
    const at = new Date().toISOString();
    writeFileSync(
      join(harness.spoolDir, `${queued}.json`),
      JSON.stringify({
        id: queued,
        format: 'ndjson',
        state: 'queued',
        receivedBytes: 0,
        rows: 30,
        rowsDone: 0,
        accepted: 0,
        rejected: 0,
        rejections: [],
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        createdAt: at,
        updatedAt: at,
      }),
    );

    await harness.start();
    for (const id of [torn, empty]) {
      expect(await statusOf(harness, id)).toMatchObject({
        id,
        state: 'failed',
        failureCode: 'IMPORT_STATUS_CORRUPT',
      });
    }
    // The unreadable bytes are kept for whoever looks into it.
    expect(readFileSync(join(harness.spoolDir, `${torn}.json.corrupt`))).toEqual(tornBytes);
    expect(await waitFor(harness, queued, ended)).toMatchObject({ state: 'completed', accepted: 30 });
    const fresh = await upload(harness, generateRecords('tax', 10, 77));
    expect(await waitFor(harness, fresh, ended)).toMatchObject({ state: 'completed', accepted: 10 });
  }, 60_000);
});

describe('the spool files of ended imports', () => {
  const DAY = 86_400_000;
  let now = Date.now();
  const harness = connectorHarness(taxConnector, { clock: () => now, importRetentionMs: DAY });
  const spooled = (id: string) => existsSync(join(harness.spoolDir, `${id}.data`));
  const leases = (id: string) =>
    readdirSync(harness.spoolDir).filter((name) => name.startsWith(`${id}.lease.`));
  afterAll(() => harness.dispose());

  it('are removed once the retention period is over by the clock, at start and after an import, with their lease files', async () => {
    await harness.start();
    const first = await upload(harness, generateRecords('tax', 10, 78));
    expect(await waitFor(harness, first, ended)).toMatchObject({ state: 'completed' });
    expect(spooled(first)).toBe(true);
    expect(leases(first)).not.toEqual([]);

    // A millisecond short of the period, the next import's end leaves the first file alone.
    now += DAY - 1;
    const second = await upload(harness, generateRecords('tax', 10, 79));
    expect(await waitFor(harness, second, ended)).toMatchObject({ state: 'completed' });
    expect(spooled(first)).toBe(true);

    // The period over, a start removes the first, not the second, and says so in its status.
    now += 1;
    await harness.stop();
    await harness.start();
    expect(spooled(first)).toBe(false);
    expect(leases(first)).toEqual([]);
    expect(spooled(second)).toBe(true);
    expect(leases(second)).not.toEqual([]);
    expect(await statusOf(harness, first)).toMatchObject({
      state: 'completed',
      accepted: 10,
      spoolRemovedAt: new Date(now).toISOString(),
    });

    // In the running process: the end of a third import removes the second's file.
    now += DAY;
    const third = await upload(harness, generateRecords('tax', 10, 80));
    expect(await waitFor(harness, third, ended)).toMatchObject({ state: 'completed' });
    expect(await waitFor(harness, second, (s) => s.spoolRemovedAt !== undefined)).toMatchObject({
      spoolRemovedAt: new Date(now).toISOString(),
    });
    expect(spooled(second)).toBe(false);
    expect(leases(second)).toEqual([]);
    expect(spooled(third)).toBe(true);
  }, 60_000);
});

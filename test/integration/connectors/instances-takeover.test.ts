/**
 * `npm run test:long`: an import's instance killed, or stalled past its lease, mid-import; the
 * other instance on the same spool directory takes the import over and finishes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { connectorHarness, type ConnectorProcess, send } from '../../support/connector';
import { readTopic, testKafka } from '../../support/kafka';

const ROWS = 20_000;
/** Rows an import publishes at a time (imports.ts): the most a takeover may send twice. */
const CHUNK_ROWS = 500;
const LEASE_MS = 4_000;

const until = async (what: string, done: () => boolean | Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 1_200; i += 1) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Gave up waiting: ${what}`);
};

describe('an import whose instance dies or stalls', () => {
  let kafka: Kafka;
  const harnesses: ReturnType<typeof connectorHarness>[] = [];

  beforeAll(() => {
    kafka = testKafka('it-read');
  });
  afterAll(() => Promise.all(harnesses.map((h) => h.dispose())));

  /** Two instances on one spool, and an import of {@link ROWS} rows sent to the first, caught mid-way and paused. */
  async function pausedMidImport() {
    const harness = connectorHarness(taxConnector, { importLeaseMs: LEASE_MS });
    harnesses.push(harness);
    const [a, b] = await Promise.all([harness.spawn(), harness.spawn()]);
    const file = `${generateRecords('tax', ROWS, 93)
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`;
    const accepted = await send(a.url, '/v1/imports', {
      apiKey: harness.apiKey,
      contentType: 'application/x-ndjson',
      body: file,
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    const statusFile = () =>
      JSON.parse(readFileSync(join(harness.spoolDir, `${id}.json`), 'utf8')) as {
        state: string;
        rowsDone: number;
      };
    await until('the first checkpoint', () => statusFile().rowsDone > 0);
    a.pause();
    const paused = statusFile();
    expect(paused.state).toBe('running');
    expect(paused.rowsDone).toBeLessThan(ROWS);
    const statusOn = async (to: ConnectorProcess) =>
      (await send(to.url, `/v1/imports/${id}`, { method: 'GET', apiKey: harness.apiKey })).body;
    return { harness, a, b, id, paused, statusOn };
  }

  /** Every row in the topic, and no more copies than the one chunk in doubt at the takeover. */
  async function expectEveryRowOnce(topic: string, fault: string): Promise<void> {
    const messages = await readTopic(kafka, topic);
    process.stderr.write(`[instances-takeover] ${fault}: ${messages.length - ROWS} rows sent twice\n`);
    expect(new Set(messages.map((m) => m.rawValue?.toString('base64'))).size).toBe(ROWS);
    expect(messages.length - ROWS).toBeLessThanOrEqual(CHUNK_ROWS);
  }

  it('killed with SIGKILL: the other instance resumes it from its checkpoint and completes it', async () => {
    const { harness, a, b, paused, statusOn } = await pausedMidImport();
    await a.kill();
    let done = await statusOn(b);
    await until('the import completed by the other instance', async () => {
      done = await statusOn(b);
      return done.state === 'completed';
    });
    expect(done).toMatchObject({ rowsDone: ROWS, accepted: ROWS, rejected: 0 });
    expect(Number(done.rowsDone)).toBeGreaterThan(paused.rowsDone);
    await expectEveryRowOnce(harness.topic, 'SIGKILL');
  });

  it('stalled past its lease: the other instance takes it over, and the stalled one stops at its next step', async () => {
    const { harness, a, b, id, statusOn } = await pausedMidImport();
    // Taken over once the lease ran out: the second generation of its lease exists.
    await until('the takeover', () => existsSync(join(harness.spoolDir, `${id}.lease.2`)));
    a.resume();
    let done = await statusOn(b);
    await until('the import completed', async () => {
      done = await statusOn(b);
      return done.state === 'completed';
    });
    expect(done).toMatchObject({ rowsDone: ROWS, accepted: ROWS, rejected: 0 });
    await expectEveryRowOnce(harness.topic, 'stalled past the lease');
    // The stalled instance carried on serving; it did not run the import further.
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect((await statusOn(a)).state).toBe('completed');
  });
});

import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { type LocalKafka } from '../../../deploy/local/local-kafka';
import { createLogger } from '../../../services/platform/logger';
import { connectorHarness, registryClient, send } from '../../support/connector';
import { scratchDir, startPrivateBroker } from '../../support/fixtures';
import { readMessages, testKafka, topicSize } from '../../support/kafka';

const json = 'application/json';
const quiet = () => createLogger({ name: 'it', level: 'silent' });

async function eventIdsIn(kafka: Kafka, topic: string, count: number): Promise<string[]> {
  const messages = await readMessages(kafka, topic, count);
  const registry = registryClient();
  return Promise.all(
    messages.map(async (m) => ((await registry.decode(m.rawValue as Buffer)) as { eventId: string }).eventId),
  );
}

describe('a connector whose broker goes down', () => {
  const scratch = scratchDir('connector-broker');
  let broker: LocalKafka;
  let harness: ReturnType<typeof connectorHarness>;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startPrivateBroker(join(scratch.path, 'kafka'));
    harness = connectorHarness(taxConnector, { brokers: () => broker.endpoint });
    await harness.start();
    kafka = testKafka('it-read', { brokers: broker.endpoint, logger: quiet() });
  });

  afterAll(async () => {
    await harness?.dispose();
    await broker?.stop();
    scratch.remove();
  });

  it('answers 503 with Retry-After in bounded time, and a resend after the restart succeeds with nothing lost', async () => {
    const before = generateRecords('tax', 20, 51);
    const ok = await send(harness.url(), '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify(before),
    });
    expect(ok.status).toBe(200);
    const acknowledged = (ok.body.records as { eventId: string }[]).map((r) => r.eventId);

    await broker.stop();
    const during = generateRecords('tax', 20, 52);
    const started = Date.now();
    const down = await fetch(`${harness.url()}/v1/records`, {
      method: 'POST',
      headers: { 'content-type': json, 'x-api-key': harness.apiKey },
      body: JSON.stringify(during),
    });
    const waited = Date.now() - started;
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await down.json()) as { code: string }).code).toBe('KAFKA_UNAVAILABLE');
    // The connector's send timeout is 5 s; the answer must not wait for kafkajs's own retries.
    expect(waited).toBeLessThan(8_000);

    await broker.start();
    await broker.waitReady();
    let resent: Awaited<ReturnType<typeof send>> | undefined;
    for (let attempt = 0; attempt < 20 && resent?.status !== 200; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      resent = await send(harness.url(), '/v1/records', {
        apiKey: harness.apiKey,
        contentType: json,
        body: JSON.stringify(during),
      });
    }
    expect(resent?.status).toBe(200);
    acknowledged.push(...(resent?.body.records as { eventId: string }[]).map((r) => r.eventId));

    const size = await topicSize(kafka, harness.topic);
    const inTopic = new Set(await eventIdsIn(kafka, harness.topic, size));
    for (const id of acknowledged) expect(inTopic.has(id)).toBe(true);
  });
});

describe('an import across a connector restart', () => {
  const harness = connectorHarness(taxConnector);
  let kafka: Kafka;

  beforeAll(async () => {
    await harness.start();
    kafka = testKafka('it-read', { logger: quiet() });
  });
  afterAll(() => harness.dispose());

  it('resumes after the last acknowledged row and publishes no acknowledged row twice', async () => {
    const rows = generateRecords('tax', 30_000, 61);
    const file = `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const accepted = await send(harness.url(), '/v1/imports', {
      apiKey: harness.apiKey,
      contentType: 'application/x-ndjson',
      body: file,
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    const statusOf = async () =>
      (await send(harness.url(), `/v1/imports/${id}`, { method: 'GET', apiKey: harness.apiKey })).body;

    // Stop once part of the file is acknowledged.
    let progress = await statusOf();
    while (Number(progress.rowsDone) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      progress = await statusOf();
    }
    await harness.stop();
    await harness.start();
    const resumedFrom = (await statusOf()).rowsDone as number;
    expect(resumedFrom).toBeGreaterThan(0);

    let done = await statusOf();
    for (let i = 0; i < 600 && done.state !== 'completed'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      done = await statusOf();
    }
    expect(done).toMatchObject({
      state: 'completed',
      rows: 30_000,
      rowsDone: 30_000,
      accepted: 30_000,
      rejected: 0,
    });
    // Exactly one message per row: the rows acknowledged before the stop were not sent again.
    expect(await topicSize(kafka, harness.topic)).toBe(30_000);
    expect(resumedFrom).toBeLessThan(30_000);
  });
});

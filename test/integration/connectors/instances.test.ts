import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { connectorHarness, type ConnectorProcess, registryClient, send } from '../../support/connector';
import { readTopic, testKafka, topicSize } from '../../support/kafka';

const ndjson = (rows: number, seed: number) =>
  `${generateRecords('tax', rows, seed)
    .map((r) => JSON.stringify(r))
    .join('\n')}\n`;

/**
 * Two processes of the tax connector on one topic and one spool directory, as two instances on
 * one host or on one shared volume. The tests run in order: the second instance starts during the
 * first test, and the later ones use both.
 */
describe('two instances of one connector', () => {
  // A lease far longer than a process's start on a loaded machine: a paused holder keeps its import.
  const harness = connectorHarness(taxConnector, { importLeaseMs: 120_000 });
  let kafka: Kafka;
  let a: ConnectorProcess;
  let b: ConnectorProcess;
  /** Messages in the topic once the imports are done. */
  let imported = 0;

  beforeAll(async () => {
    kafka = testKafka('it-read');
    a = await harness.spawn();
  });
  afterAll(() => harness.dispose());

  const statusOn = async (to: ConnectorProcess, id: string) =>
    (await send(to.url, `/v1/imports/${id}`, { method: 'GET', apiKey: harness.apiKey })).body;
  /** The import's status on `to` once it has ended, or as it stands after a minute. */
  const endOn = async (to: ConnectorProcess, id: string) => {
    let status = await statusOn(to, id);
    for (let i = 0; i < 600 && status.state !== 'completed' && status.state !== 'failed'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await statusOn(to, id);
    }
    return status;
  };
  const importTo = async (to: ConnectorProcess, body: string): Promise<string> => {
    const accepted = await send(to.url, '/v1/imports', {
      apiKey: harness.apiKey,
      contentType: 'application/x-ndjson',
      body,
    });
    expect(accepted.status).toBe(202);
    return accepted.body.id as string;
  };

  it('run an import once: an instance started during another one’s import leaves it to that one', async () => {
    const rows = 5_000;
    const id = await importTo(a, ndjson(rows, 92));
    const statusFile = () =>
      JSON.parse(readFileSync(join(harness.spoolDir, `${id}.json`), 'utf8')) as {
        state: string;
        rowsDone: number;
      };
    while (statusFile().rowsDone === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Held mid-import: its lease stands, and its process is alive.
    a.pause();
    const paused = statusFile();
    expect(paused.state).toBe('running');
    expect(paused.rowsDone).toBeLessThan(rows);

    // A second instance starts meanwhile: it answers for the import, and leaves it alone.
    b = await harness.spawn();
    expect(await statusOn(b, id)).toMatchObject({ id, state: 'running', rowsDone: paused.rowsDone });
    a.resume();

    expect(await endOn(b, id)).toMatchObject({
      state: 'completed',
      rowsDone: rows,
      accepted: rows,
      rejected: 0,
    });
    // Exactly one message per row: nothing published by both instances.
    const messages = await readTopic(kafka, harness.topic);
    expect(messages).toHaveLength(rows);
    expect(new Set(messages.map((m) => m.rawValue?.toString('base64'))).size).toBe(rows);
    imported = rows;
  });

  it('run each import sent to either of them once, by whichever claimed it', async () => {
    const ids = await Promise.all([a, b, a, b].map((to, i) => importTo(to, ndjson(500, 100 + i))));
    for (const [i, id] of ids.entries()) {
      // Asked of the instance it was not sent to.
      expect(await endOn(i % 2 === 0 ? b : a, id)).toMatchObject({ state: 'completed', accepted: 500 });
    }
    expect(await topicSize(kafka, harness.topic)).toBe(imported + ids.length * 500);
    imported += ids.length * 500;
  });

  it('answer each resend with the same event ids, and write copies the views cannot tell apart', async () => {
    const body = JSON.stringify(generateRecords('tax', 50, 91));
    const post = (to: ConnectorProcess) =>
      send(to.url, '/v1/records', { apiKey: harness.apiKey, contentType: 'application/json', body });
    // Both at once, as a client retrying on another instance after a timeout would; then in turn.
    const answers = [...(await Promise.all([post(a), post(b)])), await post(a), await post(b)];
    for (const answer of answers) expect(answer.status).toBe(200);
    const ids = answers.map((answer) => (answer.body.records as { eventId: string }[]).map((r) => r.eventId));
    for (const other of ids.slice(1)) expect(other).toEqual(ids[0]);

    const registry = registryClient();
    const messages = await readTopic(kafka, harness.topic);
    // Each acknowledged send wrote its records once: no record lost, none written by both.
    expect(messages).toHaveLength(imported + answers.length * 50);
    const resent = new Set(ids[0]);
    const copies = new Map<string, typeof messages>();
    for (const m of messages) {
      const { eventId } = (await registry.decode(m.rawValue as Buffer)) as { eventId: string };
      if (resent.has(eventId)) copies.set(eventId, [...(copies.get(eventId) ?? []), m]);
    }
    expect(copies.size).toBe(50);
    for (const same of copies.values()) {
      // One partition and one byte string per event, whichever instance wrote it: the views'
      // version guard makes every copy after the first a no-op.
      expect(same).toHaveLength(answers.length);
      expect(new Set(same.map((m) => m.partition)).size).toBe(1);
      expect(new Set(same.map((m) => m.rawValue?.toString('base64'))).size).toBe(1);
    }
    // Each answer named where its own copy is.
    const where = new Set(messages.map((m) => `${m.partition}:${m.offset}`));
    for (const answer of answers) {
      for (const r of answer.body.records as { partition: number; offset: string }[]) {
        expect(where.has(`${r.partition}:${r.offset}`)).toBe(true);
      }
    }
  });
});

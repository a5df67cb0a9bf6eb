import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { LocalFerretDb } from '../../../deploy/local/local-ferretdb';
import { type AuditRecord } from '../../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { VIEW_NAMES } from '../../../services/sharing/projection';
import { statementChunks } from '../../../services/platform/mongo';
import { freePort, scratchDir } from '../../support/fixtures';
import { type Answer, lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

/**
 * The lookup service on a store of its own, holding a copy of the views, so that the store can be
 * stopped under it without touching the store the other files share.
 */
const harness = lookupHarness({ auditWriteTimeoutMs: 1_000 });
const scratch = scratchDir('lookup-fail-closed');
let store: LocalFerretDb;
let own: MongoClient;

beforeAll(async () => {
  await harness.setUp();
  const events = lookupStoryEvents();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  store = new LocalFerretDb({
    stateDir: join(scratch.path, 'ferretdb'),
    port: await freePort(),
    progress: () => undefined,
  });
  await store.start();
  await store.waitReady();
  own = new MongoClient(store.uri);
  await own.connect();
  for (const view of VIEW_NAMES) {
    const docs = await harness.sharing.db().collection(view).find({}).toArray();
    for (const chunk of statementChunks(docs))
      await own.db(harness.sharing.dbName).collection(view).insertMany(chunk);
  }
  await harness.stopLookup();
  await harness.startLookup(new MongoClient(store.uri, { serverSelectionTimeoutMS: 1_000 }));
}, 120_000);

afterAll(async () => {
  await harness.tearDown();
  await own?.close();
  await store?.stop();
  scratch.remove();
});

describe('with the store stopped', () => {
  it('answers 503 and never sends data that was not audited first', async () => {
    const answers: { phase: string; answer: Answer }[] = [];
    let phase = 'up';
    let running = true;
    const officer = harness.officer('HN-PC08');
    const worker = async (): Promise<void> => {
      while (running) {
        // The phase a request was sent in: one in flight when the store dies may still be answered.
        const sentIn = phase;
        const answer = await harness.get(`/v1/citizens/${STORY.buyer}`, {
          token: officer,
          dossier: OPEN_DOSSIERS.transfer.id,
        });
        // A request in flight while the store was being killed may go either way.
        answers.push({ phase: sentIn === phase ? sentIn : 'crossing', answer });
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((r) => setTimeout(r, 1_000));
    // Killed, as a crash or a lost host would take it.
    phase = 'killing';
    await store.kill();
    phase = 'down';
    // The store stays down until requests sent after the kill have been answered: on a busy machine
    // one may take seconds (server selection, then the audit write's timeout), and a fixed window
    // could close before any came back. A service that never answers fails the check below.
    const answeredDown = Date.now() + 30_000;
    await new Promise((r) => setTimeout(r, 2_000));
    while (answers.filter((a) => a.phase === 'down').length < 4 && Date.now() < answeredDown)
      await new Promise((r) => setTimeout(r, 100));
    phase = 'restarting';
    await store.start();
    await store.waitReady();
    // The driver finds the store again on its own schedule, slower on a busy machine: the service
    // is back once it has answered 200 again, within 30 s; from then on every answer must be 200.
    const restarted = answers.length;
    const recovery = Date.now() + 30_000;
    while (!answers.slice(restarted).some((a) => a.answer.statusCode === 200) && Date.now() < recovery)
      await new Promise((r) => setTimeout(r, 100));
    phase = 'back';
    await new Promise((r) => setTimeout(r, 2_000));
    running = false;
    await Promise.all(workers);

    const statuses = (p: string) =>
      new Set(answers.filter((a) => a.phase === p).map((a) => a.answer.statusCode));
    expect([...statuses('up')]).toEqual([200]);
    expect(answers.filter((a) => a.phase === 'back').length).toBeGreaterThan(0);
    expect([...statuses('back')]).toEqual([200]);
    // While the store is down every answer is a 503 problem with no data in it.
    const down = answers.filter((a) => a.phase === 'down');
    expect(down.length).toBeGreaterThan(0);
    for (const { answer } of down) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json().data).toBeUndefined();
      expect(['AUDIT_UNAVAILABLE', 'STORE_UNAVAILABLE']).toContain(answer.json().code);
    }
    expect(answers.every((a) => [200, 503].includes(a.answer.statusCode))).toBe(true);

    // Every answer that carried data names its audit record, and that record says what was sent.
    const served = answers.filter((a) => a.answer.statusCode === 200);
    const seqs = served.map((a) => Number(a.answer.headers['x-audit-record']));
    expect(seqs.every((s) => s > 0)).toBe(true);
    const stored = await own
      .db(harness.sharing.dbName)
      .collection<AuditRecord>(AUDIT_RECORDS)
      .find({ seq: { $in: seqs } })
      .toArray();
    expect(stored).toHaveLength(new Set(seqs).size);
    for (const record of stored) {
      expect(record).toMatchObject({ status: 200, result: 'allowed', subject: { id: STORY.buyer } });
    }

    // And the chain is whole: the writes cut short by the outage left no gap and no fork.
    const verify = await harness.get('/v1/audit/verify', {
      token: harness.token('auditor', 'TT-01', 'HN-TTRA'),
    });
    expect(verify.json()).toMatchObject({ ok: true, breaches: [] });
  }, 90_000);
});

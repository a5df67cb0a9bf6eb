import { connect } from 'node:net';
import { type AuditRecord, auditId } from '../../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { type FloodEntry } from '../../../services/lookup/flood-log';
import { lookupHarness } from '../../support/lookup';
import { OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

const LIMIT = 5;
const FLOOD = 40;
const harness = lookupHarness({ limits: { perClientPerMinute: LIMIT } });

beforeAll(async () => {
  await harness.setUp();
});

afterAll(async () => {
  await harness.tearDown();
});

const trail = () => harness.sharing.db().collection<AuditRecord & Partial<FloodEntry>>(AUDIT_RECORDS);

describe('a flood from one client', () => {
  it('is limited before authentication and costs the trail one aggregate record a minute', async () => {
    const before = harness.lookup().trail.head().seq;
    const answers = [];
    for (let i = 0; i < FLOOD; i += 1) {
      // A forged token: were the token checked first, every answer would be a 401 and a record.
      answers.push(
        await harness.get(`/v1/citizens/${STORY.buyer}`, {
          token: harness.forgedToken('officer', `CB-${i}`, 'HN-PC08'),
          dossier: OPEN_DOSSIERS.transfer.id,
        }),
      );
    }
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), ...Array<number>(FLOOD - LIMIT).fill(429)]);
    // Every answer, the 401s included, says where the client stands.
    expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual([
      '4',
      '3',
      '2',
      '1',
      '0',
      ...Array<string>(FLOOD - LIMIT).fill('0'),
    ]);
    expect(answers.every((a) => a.headers['x-ratelimit-limit'] === String(LIMIT))).toBe(true);
    const refused = answers.slice(LIMIT);
    expect(refused.map((a) => a.json().code)).toEqual(Array<string>(FLOOD - LIMIT).fill('RATE_LIMITED'));
    expect(refused.every((a) => Number(a.headers['retry-after']) > 0)).toBe(true);
    // Under the limit each request has its record; past it none has one of its own.
    expect(answers.slice(0, LIMIT).map((a) => Number(a.headers['x-audit-record']))).toEqual(
      Array.from({ length: LIMIT }, (_, i) => before + i + 1),
    );
    expect(refused.filter((a) => a.headers['x-audit-record'] !== undefined)).toEqual([]);
    expect(harness.lookup().trail.head().seq).toBe(before + LIMIT);

    await harness.lookup().app.floodLog.flush(true);
    const written = await trail()
      .find({ _id: { $gt: auditId(before + LIMIT) } })
      .toArray();
    // One record a minute: two if the flood straddled a minute's end.
    expect(written.length).toBeLessThanOrEqual(2);
    expect(written.reduce((sum, r) => sum + (r.flood?.count ?? 0), 0)).toBe(FLOOD - LIMIT);
    expect(written[0]).toMatchObject({
      action: 'GET /v1/citizens/:id',
      actor: null,
      subject: null,
      result: 'denied',
      reason: 'RATE_LIMITED',
      status: 429,
      flood: { client: '127.0.0.1' },
    });
    expect(written.map((r) => (r.flood?.minute as Date).getTime() % 60_000)).toEqual(written.map(() => 0));
    // The aggregate is chained like any other record.
    expect((await harness.lookup().trail.verify({ full: true })).ok).toBe(true);
  });

  it('counts requests the parser refused against the same limit, without a record each', async () => {
    const before = harness.lookup().trail.head().seq;
    const { port } = new URL(harness.lookup().url());
    const raw = (): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('BREW / HTTP/1.1\r\n\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += String(chunk)));
        socket.on('close', () => resolve(data));
      });
    const answers = [await raw(), await raw(), await raw()];
    expect(answers.map((a) => /"code":"(\w+)"/.exec(a)?.[1])).toEqual(Array(3).fill('RATE_LIMITED'));
    expect(harness.lookup().trail.head().seq).toBe(before);
    await harness.lookup().app.floodLog.flush(true);
    const written = await trail()
      .find({ _id: { $gt: auditId(before) } })
      .toArray();
    expect(written.map((r) => r.action)).toEqual(written.map(() => 'UNPARSED'));
    expect(written.reduce((sum, r) => sum + (r.flood?.count ?? 0), 0)).toBe(3);
  });
});

import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { vehicleConnector } from '../../../connectors/vehicle/index';
import { createLogger } from '../../../services/platform/logger';
import { type RedriveLogEntry } from '../../../services/platform/redrive-log';
import { connectorHarness, send } from '../../support/connector';
import { readMessages, testKafka } from '../../support/kafka';

/**
 * `GET /v1/quarantine` and `POST /v1/quarantine/{id}/resend` on the real stack: the tax agency
 * reads its refused records grouped by code, a page at a time, fixes one and resends it; the vehicle
 * agency's ids mean nothing to it.
 */
const json = 'application/json';
const tax = connectorHarness(taxConnector);
const vehicle = connectorHarness(vehicleConnector);
const kafka = testKafka('it-quarantine-read', { logger: createLogger({ name: 'it', level: 'silent' }) });

interface Listed {
  id: string;
  code: string;
  state: string;
  record: Record<string, unknown>;
  paths: string[];
  errors: { path: string; code: string }[];
  resolution?: { state: string; by: string; eventId?: string };
}
interface Page {
  total: number;
  groups: { code: string; total: number; records: Listed[] }[];
  nextCursor?: string;
}

const get = (url: string, path: string, apiKey: string) => send(url, path, { method: 'GET', apiKey });
const list = async (query = '') => {
  const answer = await get(tax.url(), `/v1/quarantine${query}`, tax.apiKey);
  expect(answer.status).toBe(200);
  return answer.body as unknown as Page;
};
const resend = (url: string, id: string, apiKey: string, record: unknown) =>
  send(url, `/v1/quarantine/${id}/resend`, { apiKey, contentType: json, body: JSON.stringify(record) });

const [registration, debt, , other] = generateRecords('tax', 6, 41) as unknown as Record<string, unknown>[];
const badTaxCode = { ...registration, mst: '0100000004' };
const unknownField = { ...debt, ghiChu: 'not in the format' };
const futureDate = { ...other, ngayCapMst: '2099-01-01T00:00:00+07:00' };

beforeAll(async () => {
  await tax.start();
  await vehicle.start();
}, 120_000);
afterAll(async () => {
  await tax.dispose();
  await vehicle.dispose();
});

describe('the quarantine of an agency', () => {
  it('lists its refused records grouped by code, with the original record and the failing paths', async () => {
    const answer = await send(tax.url(), '/v1/records', {
      apiKey: tax.apiKey,
      contentType: json,
      body: JSON.stringify([badTaxCode, unknownField, futureDate]),
    });
    expect(answer.status).toBe(422);

    // Read at once: the connector indexes a refusal the moment Kafka acknowledges it.
    const page = await list();
    expect(page.total).toBe(3);
    expect(page.groups.map((g) => [g.code, g.total])).toEqual([
      ['DATE_IN_FUTURE', 1],
      ['INVALID_TAX_CODE', 1],
      ['UNKNOWN_FIELD', 1],
    ]);
    const [byTaxCode] = page.groups.find((g) => g.code === 'INVALID_TAX_CODE')?.records ?? [];
    expect(byTaxCode).toMatchObject({ state: 'open', record: badTaxCode, paths: ['$.mst'] });
    expect(byTaxCode?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(page.groups.find((g) => g.code === 'UNKNOWN_FIELD')?.records[0]?.paths).toEqual(['$.ghiChu']);

    // One record alone, by its id.
    const one = await get(tax.url(), `/v1/quarantine/${byTaxCode?.id}`, tax.apiKey);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: byTaxCode?.id, code: 'INVALID_TAX_CODE', record: badTaxCode });
  });

  it('pages with a cursor, and filters by code', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const answer = await get(tax.url(), `/v1/quarantine${query}`, tax.apiKey);
      expect([query, answer.status, answer.body.code]).toEqual([query, 200, undefined]);
      const page = answer.body as unknown as Page;
      expect(page.total).toBe(3);
      seen.push(...page.groups.flatMap((g) => g.records.map((r) => r.code)));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(['DATE_IN_FUTURE', 'INVALID_TAX_CODE', 'UNKNOWN_FIELD']);

    const filtered = await list('?code=UNKNOWN_FIELD');
    expect(filtered.groups.map((g) => g.code)).toEqual(['UNKNOWN_FIELD']);
    expect(filtered.total).toBe(1);
  });

  it('answers bad input with a 400 problem naming the field', async () => {
    const cases: [string, string, string][] = [
      ['/v1/quarantine?limit=0', 'MALFORMED_REQUEST', '$.limit'],
      ['/v1/quarantine?limit=501', 'MALFORMED_REQUEST', '$.limit'],
      ['/v1/quarantine?agency=HN-DKKD', 'MALFORMED_REQUEST', '$'],
      ['/v1/quarantine?state=gone', 'MALFORMED_REQUEST', '$.state'],
      ['/v1/quarantine?cursor=bm90LWEtY3Vyc29y', 'INVALID_CURSOR', '$.cursor'],
      ['/v1/quarantine/not-an-id', 'MALFORMED_REQUEST', '$.id'],
    ];
    for (const [path, code, field] of cases) {
      const answer = await get(tax.url(), path, tax.apiKey);
      expect([path, answer.status]).toEqual([path, 400]);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ code, errors: [expect.objectContaining({ path: field })] });
    }
    const [first] = (await list()).groups[0]?.records ?? [];
    const notAnObject = await resend(tax.url(), first?.id ?? '', tax.apiKey, [registration]);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body).toMatchObject({ code: 'MALFORMED_REQUEST', errors: [{ path: '$' }] });
  });

  it("answers 404 for another agency's id, as for an id that never was, and 403 to another agency", async () => {
    const refused = await send(vehicle.url(), '/v1/records', {
      apiKey: vehicle.apiKey,
      contentType: json,
      body: JSON.stringify([{ bienSo: 'not a plate' }]),
    });
    expect(refused.status).toBe(422);
    const vehicles = await get(vehicle.url(), '/v1/quarantine', vehicle.apiKey);
    const vehicleId = (vehicles.body as unknown as Page).groups[0]?.records[0]?.id ?? '';
    expect(vehicleId).toMatch(/^[0-9a-f]{32}$/);

    for (const answer of [
      await get(tax.url(), `/v1/quarantine/${vehicleId}`, tax.apiKey),
      await resend(tax.url(), vehicleId, tax.apiKey, registration),
      await get(tax.url(), `/v1/quarantine/${'0'.repeat(32)}`, tax.apiKey),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ code: 'QUARANTINE_NOT_FOUND' });
    }
    // None of the vehicle agency's refusals is among the tax agency's.
    expect((await list('?state=all')).groups.flatMap((g) => g.records.map((r) => r.id))).not.toContain(
      vehicleId,
    );
    const stranger = await get(tax.url(), '/v1/quarantine', tax.otherAgencyKey);
    expect(stranger.status).toBe(403);
  });

  it('takes a corrected record, answers as POST /v1/records, and records the resend', async () => {
    const [refused] = (await list('?code=INVALID_TAX_CODE')).groups[0]?.records ?? [];
    const answer = await resend(tax.url(), refused?.id ?? '', tax.apiKey, registration);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      accepted: 1,
      rejected: 0,
      records: [{ index: 0, status: 'accepted', topic: tax.topic }],
    });
    const eventId = (answer.body.records as { eventId: string }[])[0]?.eventId;

    // Resolved: no longer open, and shown as resent with the event it became.
    expect((await list()).groups.map((g) => g.code)).toEqual(['DATE_IN_FUTURE', 'UNKNOWN_FIELD']);
    const all = await list('?state=all&code=INVALID_TAX_CODE');
    expect(all.groups[0]?.records[0]).toMatchObject({
      state: 'resent',
      resolution: { state: 'resent', by: taxConnector.agency, eventId },
    });

    // A resend still wrong answers 422 like any refused batch; the new refusal replaces the old.
    const [unknown] = (await list('?code=UNKNOWN_FIELD')).groups[0]?.records ?? [];
    const stillWrong = await resend(tax.url(), unknown?.id ?? '', tax.apiKey, { ...debt, ghiChu2: 'x' });
    expect(stillWrong.status).toBe(422);
    expect(stillWrong.contentType).toMatch(/^application\/problem\+json/);
    expect(stillWrong.body).toMatchObject({
      code: 'RECORDS_REJECTED',
      errors: [expect.objectContaining({ path: '$[0].ghiChu2', code: 'UNKNOWN_FIELD' })],
    });
    const open = await list('?code=UNKNOWN_FIELD');
    expect(open.groups[0]?.records.map((r) => [r.id === unknown?.id, r.paths])).toEqual([
      [false, ['$.ghiChu2']],
    ]);

    // Both resends are on the redrive log: who, what, when, the outcome; no field values.
    const logged = (await readMessages(kafka, tax.redriveLogTopic, 2)).map(
      (m) => JSON.parse(m.value ?? '') as RedriveLogEntry,
    );
    expect(logged).toEqual([
      expect.objectContaining({
        action: 'resend',
        actor: { kind: 'agency', id: taxConnector.agency },
        agency: taxConnector.agency,
        subject: { quarantineId: refused?.id },
        outcome: 'accepted',
        target: expect.objectContaining({ topic: tax.topic, eventId }),
      }),
      expect.objectContaining({
        subject: { quarantineId: unknown?.id },
        outcome: 'rejected',
        errors: [{ path: '$.ghiChu2', code: 'UNKNOWN_FIELD' }],
      }),
    ]);
    for (const entry of logged) expect(Date.parse(entry.at)).toBeGreaterThan(0);
    expect(JSON.stringify(logged)).not.toContain(String(registration.tenNguoiNopThue));
  });

  it('reads the same quarantine back from its topic after a restart', async () => {
    const before = await list('?state=all');
    await tax.stop();
    await tax.start();
    expect(await list('?state=all')).toEqual(before);
  }, 60_000);
});

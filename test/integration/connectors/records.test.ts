import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { dossierConnector } from '../../../connectors/dossier/index';
import { TAX_CSV_COLUMNS } from '../../../connectors/tax/csv';
import { taxConnector } from '../../../connectors/tax/index';
import { vehicleConnector } from '../../../connectors/vehicle/index';
import { createLogger } from '../../../services/platform/logger';
import { connectorHarness, registryClient, send } from '../../support/connector';
import { readMessages, testKafka } from '../../support/kafka';

const json = 'application/json';

/** Reads every message of `topic` and decodes its value with the official registry client. */
async function readEvents(kafka: Kafka, topic: string, count: number) {
  const messages = await readMessages(kafka, topic, count);
  const registry = registryClient();
  return Promise.all(
    messages.map(async (m) => ({
      partition: m.partition,
      offset: m.offset,
      key: m.key,
      headers: m.headers,
      event: (await registry.decode(m.rawValue as Buffer)) as { eventId: string; eventType: string },
    })),
  );
}

describe('the tax connector over HTTP, on the real stack', () => {
  const harness = connectorHarness(taxConnector);
  let kafka: Kafka;
  let url: string;
  const valid = generateRecords('tax', 3, 11);
  const [first] = valid as unknown as [Record<string, unknown>];
  const invalid = [
    { ...first, mst: '0100000004' },
    { ...first, loaiBanGhi: 'DANG_KY_THUE', loaiNnt: 'CA_NHAN', soCccd: '999123456789' },
    { ...first, ngayCapMst: '2099-01-01T00:00:00+07:00' },
    { ...first, $where: 'sleep(1000)' },
  ];

  beforeAll(async () => {
    await harness.start();
    url = harness.url();
    kafka = testKafka('it-connector-read', { logger: createLogger({ name: 'it', level: 'silent' }) });
  });
  afterAll(() => harness.dispose());

  it('accepts the valid records after Kafka acknowledged them and quarantines the others with their paths', async () => {
    const batch = [...valid, ...invalid];
    const answer = await send(url, '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify(batch),
    });
    expect(answer.status).toBe(207);
    expect(answer.body).toMatchObject({ accepted: 3, rejected: 4 });
    const records = answer.body.records as Record<string, unknown>[];
    for (const i of [0, 1, 2]) {
      expect(records[i]).toMatchObject({ index: i, status: 'accepted', topic: harness.topic });
      expect(records[i]?.eventId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const errorsOf = (i: number) => (records[i] as { errors: { path: string; code: string }[] }).errors;
    expect(errorsOf(3)).toContainEqual(expect.objectContaining({ path: '$.mst', code: 'INVALID_TAX_CODE' }));
    expect(errorsOf(4)).toContainEqual(expect.objectContaining({ path: '$.soCccd', code: 'INVALID_CCCD' }));
    expect(errorsOf(5)).toContainEqual(
      expect.objectContaining({ path: '$.ngayCapMst', code: 'DATE_IN_FUTURE' }),
    );
    expect(errorsOf(6)).toContainEqual(expect.objectContaining({ path: '$.$where', code: 'UNKNOWN_FIELD' }));

    // What was acknowledged is in Kafka, where the answer said, and decodes with the official client.
    const events = await readEvents(kafka, harness.topic, 3);
    for (const i of [0, 1, 2]) {
      const answered = records[i] as { eventId: string; partition: number; offset: string };
      const found = events.find((e) => e.partition === answered.partition && e.offset === answered.offset);
      expect(found?.event.eventId).toBe(answered.eventId);
      expect(found?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    }

    // The refused ones wait in quarantine with the original record and the reasons.
    const quarantined = await readMessages(kafka, harness.quarantineTopic, 4);
    const values = quarantined.map(
      (m) => JSON.parse(m.value ?? '{}') as { record: unknown; issues: { code: string }[] },
    );
    expect(values.map((v) => v.issues[0]?.code).sort()).toEqual(
      ['DATE_IN_FUTURE', 'INVALID_CCCD', 'INVALID_TAX_CODE', 'UNKNOWN_FIELD'].sort(),
    );
    expect(values.map((v) => v.record)).toContainEqual(invalid[0]);
    expect(quarantined.every((m) => m.headers['lienthong-error-code'])).toBe(true);
  });

  it('gives a resent batch the same eventIds, so it has no second effect downstream', async () => {
    const topicBefore = await readEvents(kafka, harness.topic, 3);
    const again = await send(url, '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify(valid),
    });
    expect(again.status).toBe(200);
    const ids = (again.body.records as { eventId: string }[]).map((r) => r.eventId);
    expect(new Set(ids)).toEqual(new Set(topicBefore.map((e) => e.event.eventId)));
    const all = await readEvents(kafka, harness.topic, 6);
    expect(new Set(all.map((e) => e.event.eventId)).size).toBe(3);
  });

  describe('answers bad input with 4xx problem+json, never 5xx', () => {
    const cases: {
      name: string;
      body: string;
      contentType?: string;
      apiKey?: 'own' | 'other' | 'none';
      status: number;
      code: string;
      path?: string;
    }[] = [
      { name: 'non-JSON', body: '{"mst": ', status: 400, code: 'MALFORMED_JSON' },
      {
        name: 'the wrong content type',
        body: 'mst=0100000003',
        contentType: 'text/plain',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'an oversized body',
        body: JSON.stringify([{ ...first, lyDo: 'x'.repeat(300 * 1024) }]),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      {
        name: 'too many records',
        body: JSON.stringify(Array.from({ length: 101 }, () => first)),
        status: 413,
        code: 'TOO_MANY_RECORDS',
      },
      { name: 'not an array', body: JSON.stringify(first), status: 400, code: 'MALFORMED_REQUEST' },
      {
        name: 'an unknown field',
        body: JSON.stringify([{ ...first, hacked: true }]),
        status: 422,
        code: 'RECORDS_REJECTED',
        path: '$[0].hacked',
      },
      {
        name: 'a wrong type',
        body: JSON.stringify([{ ...first, phienBan: '1' }]),
        status: 422,
        code: 'RECORDS_REJECTED',
        path: '$[0].phienBan',
      },
      {
        name: 'a $ key',
        body: JSON.stringify([{ ...first, $gt: '' }]),
        status: 422,
        code: 'RECORDS_REJECTED',
        path: '$[0].$gt',
      },
      {
        name: '__proto__',
        body: `[{"__proto__": {"admin": true}, "mst": "0100000003"}]`,
        status: 400,
        code: 'MALFORMED_JSON',
      },
      {
        name: 'an invalid tax code',
        body: JSON.stringify([{ ...first, mst: '0100000004' }]),
        status: 422,
        code: 'RECORDS_REJECTED',
        path: '$[0].mst',
      },
      {
        name: 'a date far in the future',
        body: JSON.stringify([{ ...first, ngayCapMst: '2999-01-01T00:00:00+07:00' }]),
        status: 422,
        code: 'RECORDS_REJECTED',
        path: '$[0].ngayCapMst',
      },
      { name: 'no API key', body: JSON.stringify(valid), apiKey: 'none', status: 401, code: 'UNAUTHORIZED' },
      {
        name: "another agency's key",
        body: JSON.stringify(valid),
        apiKey: 'other',
        status: 403,
        code: 'FORBIDDEN',
      },
    ];

    it.each(cases)('$name → $status $code', async ({ body, contentType, apiKey, status, code, path }) => {
      const key =
        apiKey === 'none' ? undefined : apiKey === 'other' ? harness.otherAgencyKey : harness.apiKey;
      const answer = await send(url, '/v1/records', {
        ...(key ? { apiKey: key } : {}),
        contentType: contentType ?? json,
        body,
      });
      expect(answer.status).toBe(status);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe(code);
      if (path) expect((answer.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    });
  });

  describe('file imports', () => {
    const csvOf = (rows: Record<string, unknown>[]) =>
      [
        TAX_CSV_COLUMNS.join(','),
        ...rows.map((r) => TAX_CSV_COLUMNS.map((c) => csvCell(r[c])).join(',')),
      ].join('\n') + '\n';

    const waitForImport = async (id: string) => {
      for (let i = 0; i < 300; i += 1) {
        const status = await send(url, `/v1/imports/${id}`, { method: 'GET', apiKey: harness.apiKey });
        if (status.body.state === 'completed' || status.body.state === 'failed') return status.body;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`import ${id} did not finish`);
    };

    it('imports a CSV, answering per-row rejections', async () => {
      const rows = generateRecords('tax', 200, 21) as Record<string, unknown>[];
      const broken = { ...rows[5], mst: '0100000004' };
      const file = csvOf([...rows.slice(0, 5), broken, ...rows.slice(5)]);
      const answer = await send(url, '/v1/imports', {
        apiKey: harness.apiKey,
        contentType: 'text/csv',
        body: file,
      });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ format: 'csv', rows: 201 });
      const done = await waitForImport(answer.body.id as string);
      expect(done).toMatchObject({ state: 'completed', rowsDone: 201, accepted: 200, rejected: 1 });
      expect(done.rejections).toEqual([
        { row: 6, errors: [expect.objectContaining({ path: '$.mst', code: 'INVALID_TAX_CODE' })] },
      ]);
    });

    it('imports NDJSON, refusing an unreadable line as a row', async () => {
      const rows = generateRecords('tax', 50, 31);
      const file = `${rows
        .slice(0, 10)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n{"mst": \n${rows
        .slice(10)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`;
      const answer = await send(url, '/v1/imports', {
        apiKey: harness.apiKey,
        contentType: 'application/x-ndjson',
        body: file,
      });
      expect(answer.status).toBe(202);
      const done = await waitForImport(answer.body.id as string);
      expect(done).toMatchObject({ state: 'completed', rows: 51, accepted: 50, rejected: 1 });
      expect(done.rejections).toEqual([
        { row: 11, errors: [expect.objectContaining({ code: 'MALFORMED_JSON' })] },
      ]);
    });

    it('refuses a CSV with broken quoting or missing columns as a whole, with 422', async () => {
      const rows = generateRecords('tax', 3, 41) as Record<string, unknown>[];
      const brokenQuoting = csvOf(rows).replace(/\n([^\n]*)\n$/, '\n"$1\n');
      const quoting = await send(url, '/v1/imports', {
        apiKey: harness.apiKey,
        contentType: 'text/csv',
        body: brokenQuoting,
      });
      expect(quoting.status).toBe(422);
      expect(quoting.contentType).toMatch(/^application\/problem\+json/);
      expect((quoting.body.errors as { code: string }[])[0]?.code).toBe('MALFORMED_CSV');

      const missing = await send(url, '/v1/imports', {
        apiKey: harness.apiKey,
        contentType: 'text/csv',
        body: csvOf(rows).replace(',mst,', ',').replace(/^/, ''),
      });
      expect(missing.status).toBe(422);
      expect(missing.body.errors).toContainEqual(
        expect.objectContaining({ path: '$.mst', code: 'MISSING_COLUMN' }),
      );

      const unknownImport = await send(url, `/v1/imports/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, {
        method: 'GET',
        apiKey: harness.apiKey,
      });
      expect(unknownImport.status).toBe(404);
    });
  });
});

describe('the vehicle connector refuses a bad plate', () => {
  const harness = connectorHarness(vehicleConnector);
  beforeAll(() => harness.start());
  afterAll(() => harness.dispose());

  it('answers the plate path and code', async () => {
    const [record] = generateRecords('vehicle', 1, 5) as unknown as [Record<string, unknown>];
    const answer = await send(harness.url(), '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify([{ ...record, bienSo: '00A-123.45' }]),
    });
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toContainEqual(
      expect.objectContaining({ path: '$[0].bienSo', code: 'INVALID_PLATE' }),
    );
  });
});

describe('the dossier connector on a pinned clock', () => {
  // 00:30 in Hà Nội, months before the machine's time: the bus's clock decides, not the machine's.
  const now = Date.parse('2026-06-15T00:30:00+07:00');
  const harness = connectorHarness(dossierConnector, { clock: () => now });
  const reception = (id: string, receivedAt: string) => ({
    loaiBanGhi: 'TIEP_NHAN',
    maBanGhi: `HS-CLOCK-${id}`,
    phienBan: 1,
    maHoSo: `000.00.00.H26-260615-${id}`,
    maThuTuc: '1.004227',
    tenThuTuc: 'Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ',
    nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001085012345' },
    coQuanTiepNhan: 'HN-UBND-BACTULIEM',
    hinhThucNop: 'TRUC_TIEP',
    ngayTiepNhan: receivedAt,
    ngayHenTra: '2026-06-30T17:00:00+07:00',
  });
  beforeAll(() => harness.start());
  afterAll(() => harness.dispose());

  it('takes a date up to the allowed skew ahead of its clock, and says which skew it refused beyond', async () => {
    const answer = await send(harness.url(), '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify([
        reception('0001', '2026-06-15T00:34:59+07:00'),
        reception('0002', '2026-06-15T08:00:00+07:00'),
      ]),
    });
    expect(answer.status).toBe(207);
    expect(answer.body.records).toEqual([
      expect.objectContaining({ status: 'accepted' }),
      expect.objectContaining({
        status: 'rejected',
        errors: [
          {
            path: '$.ngayTiepNhan',
            code: 'DATE_IN_FUTURE',
            message: "The date is later than the bus's time plus the allowed clock skew of 5 minutes",
          },
        ],
      }),
    ]);
    // The quarantine says when the record was received, by the same clock.
    const kafka = testKafka('it-connector-clock', { logger: createLogger({ name: 'it', level: 'silent' }) });
    const [quarantined] = await readMessages(kafka, harness.quarantineTopic, 1);
    expect(JSON.parse(quarantined?.value ?? '{}')).toMatchObject({ receivedAt: new Date(now).toISOString() });
  });

  it('dates an import by its clock, and checks its rows against it', async () => {
    const file = [reception('0003', '2026-06-15'), reception('0004', '2026-06-15T09:00:00')]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const answer = await send(harness.url(), '/v1/imports', {
      apiKey: harness.apiKey,
      contentType: 'application/x-ndjson',
      body: file,
    });
    expect(answer.status).toBe(202);
    expect(answer.body.createdAt).toBe(new Date(now).toISOString());
    let done: Record<string, unknown> = {};
    for (let i = 0; i < 300 && done.state !== 'completed'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      done = (
        await send(harness.url(), `/v1/imports/${String(answer.body.id)}`, {
          method: 'GET',
          apiKey: harness.apiKey,
        })
      ).body;
    }
    expect(done).toMatchObject({
      state: 'completed',
      accepted: 1,
      rejected: 1,
      updatedAt: new Date(now).toISOString(),
    });
    expect(done.rejections).toEqual([
      { row: 2, errors: [expect.objectContaining({ path: '$.ngayTiepNhan', code: 'DATE_IN_FUTURE' })] },
    ]);
  });
});

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

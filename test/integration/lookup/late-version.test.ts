import { dossierConnector, type DossierNativeRecord } from '../../../connectors/dossier';
import { connectorHarness, send } from '../../support/connector';
import { type Answer, lookupHarness } from '../../support/lookup';
import { readMessages } from '../../support/kafka';

/**
 * A dossier's reception refused at the connector, its next status applied, then the reception
 * fixed and resent: the late version 1 fills what the dossier lacked, and the dossier binds lookups.
 */
const harness = lookupHarness();
const connector = connectorHarness(dossierConnector, { topic: harness.sharing.topics.dossier });

const APPLICANT = '001195004321';
const DOSSIER = '000.20.31.H26-261202-0901';
const reception: DossierNativeRecord = {
  loaiBanGhi: 'TIEP_NHAN',
  maBanGhi: 'HS-2026-0901',
  phienBan: 1,
  maHoSo: DOSSIER,
  maThuTuc: '1.010700',
  tenThuTuc: 'Đăng ký sang tên xe',
  nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: APPLICANT },
  coQuanTiepNhan: 'HN-TTHCC',
  hinhThucNop: 'TRUC_TIEP',
  ngayTiepNhan: '2026-11-20T08:30:00+07:00',
  ngayHenTra: '2026-11-27T17:00:00+07:00',
};
const processing: DossierNativeRecord = {
  loaiBanGhi: 'CHUYEN_TRANG_THAI',
  maBanGhi: 'HS-2026-0901',
  phienBan: 2,
  maHoSo: DOSSIER,
  nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: APPLICANT },
  trangThai: 'DANG_XU_LY',
  coQuanXuLy: 'HN-PC08',
  thoiDiemChuyen: '2026-11-21T09:00:00+07:00',
};

beforeAll(async () => {
  await harness.setUp();
  await connector.start();
});

afterAll(async () => {
  await connector.dispose();
  await harness.tearDown();
});

async function post(record: DossierNativeRecord) {
  const answer = await send(connector.url(), '/v1/records', {
    apiKey: connector.apiKey,
    contentType: 'application/json',
    body: JSON.stringify([record]),
  });
  return (answer.body.records as { status: string; errors?: { path: string }[] }[])[0];
}

const lookUpApplicant = () =>
  harness.get(`/v1/citizens/${APPLICANT}`, { token: harness.officer('HN-PC08'), dossier: DOSSIER });

it('applies a fixed version 1 resent after version 2: the dossier gets its procedure and binds lookups', async () => {
  // Version 1 as the desk first sent it: due before it was received.
  const refused = await post({ ...reception, ngayHenTra: '2026-11-19T17:00:00+07:00' });
  expect(refused).toMatchObject({
    status: 'rejected',
    errors: [expect.objectContaining({ path: '$.ngayHenTra' })],
  });
  await readMessages(harness.sharing.kafka, connector.quarantineTopic, 1);

  expect(await post(processing)).toMatchObject({ status: 'accepted' });
  await harness.sharing.waitForEvents(1);
  // Known only by a status change, the dossier has no procedure: every lookup under it is refused.
  const before = await lookUpApplicant();
  expect(before.statusCode).toBe(403);
  expect(before.json()).toMatchObject({ code: 'DOSSIER_NOT_FOUND' });

  expect(await post(reception)).toMatchObject({ status: 'accepted' });
  await harness.sharing.waitForEvents(2);
  expect(harness.sharing.service().stats()).toMatchObject({ applied: 2, noop: 0 });

  const view = await harness.sharing.view('dossiers', DOSSIER);
  const dossier = view?.dossier as Record<string, unknown> & { source: { sourceVersion: number } };
  expect(dossier).toMatchObject({
    // Version 2's values stay...
    status: 'PROCESSING',
    handlingAgency: 'HN-PC08',
    open: true,
    // ...and what only version 1 carried is filled in.
    procedureCode: '1.010700',
    applicant: { citizenId: APPLICANT },
    receivingAgency: 'HN-TTHCC',
    channel: 'DESK',
    dueAt: new Date('2026-11-27T10:00:00Z'),
    filledFrom: {
      v000000000001: expect.objectContaining({
        fields: expect.arrayContaining(['procedureCode', 'applicant', 'dueAt']),
      }),
    },
  });
  expect(dossier.source.sourceVersion).toBe(2);
  expect(Object.keys(view?.timeline as object).sort()).toEqual([
    'HS-2026-0901@v000000000001',
    'HS-2026-0901@v000000000002',
  ]);
  // The applicant's own list of dossiers gets the procedure too, and keeps the newer status.
  const applicant = await harness.sharing.view('citizens', APPLICANT);
  expect(Object.values(applicant?.dossiers as object)).toEqual([
    expect.objectContaining({ status: 'PROCESSING', procedureCode: '1.010700', open: true }),
  ]);

  const after = await lookUpApplicant();
  expect(after.statusCode).toBe(200);
  expect(after.json()).toMatchObject({ dossierId: DOSSIER, procedureCode: '1.010700' });

  // Lineage traces the filled fields to the resent version 1, read back at its own coordinates.
  const lineage = await harness.get(`/v1/audit/lineage/dossiers/${DOSSIER}`, {
    token: harness.token('auditor', 'TT-0001', 'HN-TTRA'),
  });
  const sections = lineage.json().sections as ReturnType<Answer['json']>[];
  const section = sections.find((s) => s.path === 'dossier');
  expect(section?.values).not.toHaveProperty('filledFrom');
  expect(section?.event).toMatchObject({ found: true, decoded: { sourceVersion: 2 } });
  expect(section?.filled).toEqual([
    expect.objectContaining({
      version: 'v000000000001',
      fields: expect.arrayContaining(['procedureCode']),
      event: expect.objectContaining({
        found: true,
        decoded: expect.objectContaining({ sourceVersion: 1, eventType: 'DossierReceived' }),
      }),
    }),
  ]);
}, 120_000);

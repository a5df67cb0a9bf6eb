import { type DemoData, generateDemoData, hanoiIso } from '../../connectors/demo/generator';
import { HANOI_UTC_OFFSET_MS } from '../../services/platform/clock';
import { TOPIC_NAMES, type TopicName } from '../../schemas/topics';

/** How to reach one agency's connector, with its own API key. */
export interface ConnectorEndpoint {
  url: string;
  apiKey: string;
}

/** Which agencies send their records by HTTP push, and which as an import file. */
const BY_FILE: ReadonlySet<TopicName> = new Set(['tax', 'vehicle']);
const PUSH_BATCH = 500;

export interface DemoLoad {
  accepted: number;
  rejected: number;
}

/**
 * Sends the seeded demo data through the connectors' own doors: the dossier system and the
 * business registration office push batches to `POST /v1/records`; the tax department and the
 * traffic police upload an NDJSON export to `POST /v1/imports` and the progress is followed. The
 * same seed gives the same records and event ids, so loading twice changes no view.
 */
export async function loadDemoData(
  connectors: Readonly<Record<TopicName, ConnectorEndpoint>>,
  options: { seed: number; citizens: number; progress: (line: string) => void },
): Promise<DemoLoad> {
  const data: DemoData = generateDemoData({ seed: options.seed, citizens: options.citizens });
  const total: DemoLoad = { accepted: 0, rejected: 0 };
  await Promise.all(
    TOPIC_NAMES.map(async (topic) => {
      const records = data[topic] as unknown[];
      const connector = connectors[topic];
      const done = BY_FILE.has(topic)
        ? await importFile(connector, records)
        : await pushRecords(connector, records);
      total.accepted += done.accepted;
      total.rejected += done.rejected;
      options.progress(
        `  ${topic}: ${done.accepted} of ${records.length} records accepted ${BY_FILE.has(topic) ? 'from an NDJSON import' : 'by POST /v1/records'}`,
      );
    }),
  );
  return total;
}

async function pushRecords(connector: ConnectorEndpoint, records: readonly unknown[]): Promise<DemoLoad> {
  const total: DemoLoad = { accepted: 0, rejected: 0 };
  for (let i = 0; i < records.length; i += PUSH_BATCH) {
    const response = await fetch(`${connector.url}/v1/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': connector.apiKey },
      body: JSON.stringify(records.slice(i, i + PUSH_BATCH)),
    });
    const answer = (await response.json()) as { accepted?: number; rejected?: number; detail?: string };
    if (response.status >= 500 || answer.accepted === undefined) {
      throw new Error(`${connector.url} answered ${response.status}: ${answer.detail ?? 'no detail'}`);
    }
    total.accepted += answer.accepted;
    total.rejected += answer.rejected ?? 0;
  }
  return total;
}

async function importFile(connector: ConnectorEndpoint, records: readonly unknown[]): Promise<DemoLoad> {
  const body = records.map((r) => JSON.stringify(r)).join('\n');
  const response = await fetch(`${connector.url}/v1/imports`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-api-key': connector.apiKey },
    body,
  });
  if (response.status !== 202)
    throw new Error(`${connector.url} refused the import: ${await response.text()}`);
  const location = response.headers.get('location') ?? '';
  for (;;) {
    const status = (await (
      await fetch(`${connector.url}${location}`, { headers: { 'x-api-key': connector.apiKey } })
    ).json()) as { state: string; accepted: number; rejected: number; failure?: string };
    if (status.state === 'completed') return { accepted: status.accepted, rejected: status.rejected };
    if (status.state === 'failed')
      throw new Error(`the import failed: ${status.failure ?? 'no reason given'}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A dossier received at a desk today, in the dossier system's own format. */
export interface DeskDossier {
  dossierId: string;
  procedureCode: string;
  procedureName: string;
  agency: string;
  applicant: { citizenId: string } | { enterpriseCode: string };
}

/**
 * Today's dossiers at two desks, received through the dossier connector: the ids carry the date
 * in Hà Nội at `now`, so a second start on the same day sends the same records again, which
 * changes nothing. Give {@link receptionRecord} the same `now`, so that ids and dates agree even
 * when midnight passes between the two calls.
 */
export function deskDossiers(now: number, applicants: { buyer: string; enterprise: string }): DeskDossier[] {
  const day = hanoiIso(now).slice(2, 10).replaceAll('-', '');
  const id = (n: number) => `000.00.00.H26-${day}-${9_000 + n}`;
  return [
    {
      dossierId: id(1),
      procedureCode: '1.010700',
      procedureName: 'Đăng ký sang tên xe',
      agency: 'HN-PC08',
      applicant: { citizenId: applicants.buyer },
    },
    {
      dossierId: id(2),
      procedureCode: '2.001199',
      procedureName: 'Đăng ký thay đổi nội dung đăng ký doanh nghiệp',
      agency: 'HN-SKHDT',
      applicant: { enterpriseCode: applicants.enterprise },
    },
  ];
}

/**
 * The dossier connector's reception record of a desk dossier, received at the start of the Hà Nội
 * day of `now`: never in the future, whatever the hour, and the same for every start that day.
 */
export function receptionRecord(dossier: DeskDossier, now: number): Record<string, unknown> {
  const applicant =
    'citizenId' in dossier.applicant
      ? { loaiDoiTuong: 'CONG_DAN', soDinhDanh: dossier.applicant.citizenId }
      : { loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: dossier.applicant.enterpriseCode };
  return {
    loaiBanGhi: 'TIEP_NHAN',
    maBanGhi: `HS-DESK-${dossier.dossierId.slice(-11)}`,
    phienBan: 1,
    maHoSo: dossier.dossierId,
    maThuTuc: dossier.procedureCode,
    tenThuTuc: dossier.procedureName,
    nguoiNop: applicant,
    coQuanTiepNhan: dossier.agency,
    hinhThucNop: 'TRUC_TIEP',
    ngayTiepNhan: hanoiIso(hanoiDayStart(now)),
    ngayHenTra: hanoiIso(hanoiDayStart(now) + 10 * DAY_MS),
  };
}

const DAY_MS = 86_400_000;

/** 00:00 in Hà Nội on the day of `now`, which has no daylight saving: always a whole day long. */
function hanoiDayStart(now: number): number {
  return Math.floor((now + HANOI_UTC_OFFSET_MS) / DAY_MS) * DAY_MS - HANOI_UTC_OFFSET_MS;
}

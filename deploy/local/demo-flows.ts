/**
 * The two flows of the demo between agency systems, under the committed sharing agreements:
 * - (a) an enterprise registered at HN-DKKD reaches the tax department's system by signed webhook
 *   (`tax-new-enterprises`); that system, played by the demo receiver, registers the taxpayer
 *   through the tax connector, and the enterprise view then holds both;
 * - (b) a vehicle transfer at HN-PC08 reaches the tax department as a registration-fee notice over
 *   its derived Kafka topic (`tax-vehicle-transfers`), read as the tax department's own principal.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Consumer } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type DemoData, hanoiIso } from '../../connectors/demo/generator';
import { taxCodeCheckDigit } from '../../connectors/runtime/identifiers';
import { HANOI_UTC_OFFSET_MS, type Clock } from '../../services/platform/clock';
import { createKafka } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { consumerGroupPrefixOf, derivedTopicOf } from '../../services/subscriptions/derived-topics';
import { newWebhookSecret } from '../../services/subscriptions/webhook-signature';
import { type ConnectorEndpoint } from './demo';
import { createDemoReceiver, type DemoReceiver, type ReceivedEvent } from './demo-receiver';
import { type KafkaConnection } from './topics';

/** The subscription of the tax department's system to new enterprises, by webhook. */
export const DEMO_SUBSCRIPTION = 'tax-new-enterprises-webhook';
const ENTERPRISES_AGREEMENT = 'tax-new-enterprises';
const TRANSFERS_AGREEMENT = 'tax-vehicle-transfers';
const DAY_MS = 86_400_000;

/** A registration-fee notice, as the tax department's consumer makes it of a derived transfer. */
export interface FeeNotice {
  plate: string;
  newOwner: string;
  /** The previous owner as the agreement shows it: its last four characters. */
  previousOwner: string;
  transferredAt: string;
}

export interface DemoFlows {
  /** The receiver's URL and secret, for the subscriptions service's endpoints file. */
  endpoint: { id: string; agreement: string; url: string; secrets: string[] };
  /** Sends the two source records and waits until both flows have happened. */
  run(subjects: { buyer: string; representative: string }): Promise<DemoFlowResult>;
  stop(): Promise<void>;
}

export interface DemoFlowResult {
  enterpriseCode: string;
  plate: string;
  /** The webhooks the receiver applied, and the taxpayers it registered. */
  received: number;
  registered: number;
  notice: FeeNotice;
  /** Notices read so far, the demo data's transfers included. */
  notices: number;
}

/** A value as decoded: a union's branch (`{ "long": … }`, `{ "…CitizenParty": {…} }`) unwrapped. */
function unwrap(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value))
    return value;
  const [only, ...more] = Object.entries(value);
  const branch = only && more.length === 0 && (only[0].includes('.') || AVRO_PRIMITIVES.has(only[0]));
  return branch ? unwrap(only[1]) : value;
}

const AVRO_PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** A party's id: a citizen's (or its last four characters) or an enterprise's code. */
function partyId(value: unknown): string {
  const party = unwrap(value);
  if (typeof party === 'string') return party;
  const fields = (party ?? {}) as Record<string, unknown>;
  return String(unwrap(fields.citizenId ?? fields.enterpriseCode) ?? '');
}

/** An instant as ISO 8601, from a Date, epoch milliseconds or a Long. */
function instant(value: unknown): string {
  const v = unwrap(value);
  const ms = v instanceof Date ? v.getTime() : Number(v);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(v);
}

/** The demo's own new enterprise: the first free code of the `0109990` range, with its check digit. */
function newEnterpriseCode(taken: ReadonlySet<string>): string {
  for (let n = 0; n < 100; n += 1) {
    const first9 = `0109990${String(n).padStart(2, '0')}`;
    const digit = taxCodeCheckDigit(first9);
    const code = digit === undefined ? undefined : `${first9}${digit}`;
    if (code && !taken.has(code)) return code;
  }
  throw new Error('no free enterprise code for the demo');
}

/** 09:00 in Hà Nội on the day before `now`'s: never in the future, the same all day. */
function yesterdayMorning(now: number): number {
  const day = Math.floor((now + HANOI_UTC_OFFSET_MS) / DAY_MS) * DAY_MS - HANOI_UTC_OFFSET_MS;
  return day - DAY_MS + 9 * 3_600_000;
}

async function post(connector: ConnectorEndpoint, record: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${connector.url}/v1/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': connector.apiKey },
    body: JSON.stringify([record]),
  });
  const answer = (await response.json()) as { accepted?: number; results?: unknown };
  if (response.status !== 200 || answer.accepted !== 1)
    throw new Error(`${connector.url} did not accept the record: ${JSON.stringify(answer)}`);
}

/**
 * Starts the receiver that plays the tax department's system, and the tax department's consumer
 * of its derived topic. The receiver knows the tax register (the demo data's taxpayers): an
 * enterprise it does not know yet is registered as a taxpayer, under its enterprise code, through
 * the tax connector with the tax department's own key; one it knows is left alone.
 */
export async function startDemoFlows(deps: {
  data: DemoData;
  connectors: Readonly<Record<'tax' | 'business-registration' | 'vehicle', ConnectorEndpoint>>;
  /** The tax department's principal on the broker. */
  taxKafka: KafkaConnection;
  registry: { url: string; username: string; password: string };
  store: MongoClient;
  db: string;
  clock: Clock;
}): Promise<DemoFlows> {
  const register = new Set(deps.data.tax.flatMap((r) => (r.loaiBanGhi === 'DANG_KY_THUE' ? [r.mst] : [])));
  let registered = 0;
  const secret = newWebhookSecret();
  const receiver: DemoReceiver = createDemoReceiver({
    secrets: [secret],
    clock: deps.clock,
    onEvent: async (event: ReceivedEvent) => {
      if (event.type !== 'vn.hanoi.lienthong.EnterpriseRegistered') return;
      const code = String(event.data.enterpriseCode);
      if (register.has(code)) return;
      // A failure answers 500, and the bus sends the event again.
      await post(deps.connectors.tax, {
        loaiBanGhi: 'DANG_KY_THUE',
        maBanGhi: `DKT-LT-${code}`,
        phienBan: 1,
        mst: code,
        loaiNnt: 'DOANH_NGHIEP',
        tenNguoiNopThue: String(event.data.name),
        coQuanThueQuanLy: '10119',
        ngayCapMst: hanoiIso(Number(event.data.registeredAt)),
      });
      register.add(code);
      registered += 1;
    },
  });
  const url = await receiver.start(0);

  const logger = createLogger({ name: 'demo-tax-consumer', level: 'warn' });
  const registry = new SchemaRegistry({
    host: deps.registry.url,
    auth: { username: deps.registry.username, password: deps.registry.password },
  });
  const notices = new Map<string, FeeNotice>();
  const topic = derivedTopicOf(TRANSFERS_AGREEMENT);
  const consumer: Consumer = createKafka({
    ...deps.taxKafka,
    clientId: 'lienthong-demo-tax',
    logger,
  }).consumer({ groupId: `${consumerGroupPrefixOf(topic)}demo` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      const value = (await registry.decode(message.value)) as { payload: Record<string, unknown> };
      // The payload record itself, or a union of the agreement's records keyed by full name.
      const record = unwrap(value.payload) as Record<string, unknown> | null;
      if (!record || typeof record !== 'object') return;
      notices.set(String(unwrap(record.plate)), {
        plate: String(unwrap(record.plate)),
        newOwner: partyId(record.newOwner),
        previousOwner: partyId(record.previousOwner),
        transferredAt: instant(record.transferredAt),
      });
    },
  });

  const until = async <T>(what: string, found: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const value = await found();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`the demo flows: ${what} did not happen in 90 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  return {
    endpoint: { id: DEMO_SUBSCRIPTION, agreement: ENTERPRISES_AGREEMENT, url, secrets: [secret] },

    async run(subjects) {
      const at = yesterdayMorning(deps.clock());
      // (a) A new enterprise, its legal representative a citizen of the demo.
      const taken = new Set(deps.data['business-registration'].map((r) => String(r.maSoDoanhNghiep)));
      const code = newEnterpriseCode(taken);
      await post(deps.connectors['business-registration'], {
        loaiBanGhi: 'DANG_KY_MOI',
        maBanGhi: `DN-${code}`,
        phienBan: 1,
        maSoDoanhNghiep: code,
        tenDoanhNghiep: 'CÔNG TY TNHH LIÊN THÔNG THUẾ MẪU',
        loaiHinh: 'TNHH_1TV',
        diaChiTruSo: {
          soNhaDuongPho: 'Số 1 Tràng Tiền',
          phuongXa: 'Phường Tràng Tiền',
          quanHuyen: 'Quận Hoàn Kiếm',
          tinhThanhPho: 'Thành phố Hà Nội',
        },
        cccdNguoiDaiDien: subjects.representative,
        vonDieuLe: '1000000000',
        ngayDangKy: hanoiIso(at),
      });
      // (b) A car of the demo data, never transferred there, passes to the buyer at the desk.
      const changed = new Set(
        deps.data.vehicle.filter((r) => r.loaiBanGhi !== 'DANG_KY_MOI').map((r) => r.maBanGhi),
      );
      const car = deps.data.vehicle.find(
        (r) =>
          r.loaiBanGhi === 'DANG_KY_MOI' &&
          !changed.has(r.maBanGhi) &&
          r.chuXe.loaiDoiTuong === 'CONG_DAN' &&
          r.chuXe.soDinhDanh !== subjects.buyer,
      );
      if (!car || car.loaiBanGhi !== 'DANG_KY_MOI')
        throw new Error('the demo data has no vehicle to transfer');
      await post(deps.connectors.vehicle, {
        loaiBanGhi: 'SANG_TEN',
        maBanGhi: car.maBanGhi,
        phienBan: 2,
        bienSo: car.bienSo,
        chuCu: car.chuXe,
        chuMoi: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: subjects.buyer },
        ngaySangTen: hanoiIso(at),
      });
      const enterprises = deps.store
        .db(deps.db)
        .collection<{ _id: string; tax?: object; registration?: object }>('enterprises');
      await until('the taxpayer registration of the new enterprise', async () => {
        const view = await enterprises.findOne({ _id: code });
        return view?.registration && view.tax && Object.keys(view.tax).length > 0 ? view : undefined;
      });
      const notice = await until('the registration-fee notice', () => notices.get(car.bienSo));
      return {
        enterpriseCode: code,
        plate: car.bienSo,
        received: receiver.events().length,
        registered,
        notice,
        notices: notices.size,
      };
    },

    async stop() {
      await consumer.disconnect().catch(() => undefined);
      await receiver.stop();
    },
  };
}

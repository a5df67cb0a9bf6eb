import { type TopicName } from '../../schemas/topics';
import { type BusinessRegistrationNativeRecord } from '../business-registration/native-record';
import { type DossierNativeRecord } from '../dossier/native-record';
import { HANOI_UTC_OFFSET_MS } from '../../services/platform/clock';
import { taxCodeCheckDigit } from '../runtime/identifiers';
import { type NativeParty } from '../runtime/native-mapping';
import { type TaxNativeRecord } from '../tax/native-record';
import { type VehicleNativeRecord } from '../vehicle/native-record';
import {
  BIKE_MODELS,
  BIKE_SERIES,
  BIRTH_PROVINCES,
  CAR_MODELS,
  CAR_SERIES,
  CITIZEN_PROCEDURES,
  type District,
  DISTRICTS,
  ENTERPRISE_BRANDS,
  ENTERPRISE_PROCEDURES,
  ENTERPRISE_TRADES,
  FAMILY_NAMES,
  GIVEN_NAMES,
  MIDDLE_NAMES,
  PLATE_PROVINCES,
  type Procedure,
  PROCEDURES,
  PROVINCE_NAME,
  TRUCK_MODELS,
  TRUCK_SERIES,
  type VehicleModel,
  VIN_CHARS,
} from './hanoi-data';

/** Each agency's native record type, by topic. */
export interface NativeRecords {
  dossier: DossierNativeRecord;
  tax: TaxNativeRecord;
  'business-registration': BusinessRegistrationNativeRecord;
  vehicle: VehicleNativeRecord;
}

/** Demo records of the four agencies, each list in the order a source would send it. */
export type DemoData = { [A in TopicName]: NativeRecords[A][] };

/** A made-up resident of Hà Nội. */
export interface DemoCitizen {
  cccd: string;
  fullName: string;
  sex: 'male' | 'female';
  birthYear: number;
  district: District;
  ward: string;
  street: string;
}

const DAY = 86_400_000;
/** Demo time runs from 2022 to mid-2025, before the district level was abolished (1 July 2025). */
const START = Date.UTC(2022, 0, 3, 1, 30);
const SPAN = Date.UTC(2024, 11, 31) - START;

/** mulberry32: a small, fast, seeded generator; demo data needs repeatability, not secrecy. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const digits = (n: number, width: number): string => String(n).padStart(width, '0');

/** An instant as Hà Nội local time with its offset, `2024-10-15T09:30:00+07:00`, as agencies write it. */
export function hanoiIso(epochMs: number): string {
  return `${new Date(epochMs + HANOI_UTC_OFFSET_MS).toISOString().slice(0, 19)}+07:00`;
}

/** The 10-digit tax code whose first 9 digits are `first9`, or undefined if that prefix has none. */
function withCheckDigit(first9: string): string | undefined {
  const check = taxCodeCheckDigit(first9);
  return check === undefined ? undefined : `${first9}${check}`;
}

/** During office hours, on a weekday, `days` after `from`. */
function officeTime(rng: Rng, from: number, days: number): number {
  let day = Math.floor((from + HANOI_UTC_OFFSET_MS) / DAY) + days;
  while ([0, 6].includes(new Date(day * DAY).getUTCDay())) day += 1;
  return day * DAY - HANOI_UTC_OFFSET_MS + int(rng, 8 * 60, 16 * 60) * 60_000;
}

/**
 * `count` made-up citizens of Hà Nội with valid, distinct CCCD numbers, names with diacritics and
 * home addresses. The same seed gives the same citizens.
 */
export function generateDemoCitizens(seed: number, count: number): DemoCitizen[] {
  const rng = random(seed);
  const seen = new Set<string>();
  const citizens: DemoCitizen[] = [];
  while (citizens.length < count) {
    const sex = rng() < 0.5 ? 'male' : 'female';
    const birthYear = int(rng, 1958, 2004);
    const centuryAndSex = (birthYear >= 2000 ? 2 : 0) + (sex === 'female' ? 1 : 0);
    const cccd = `${pick(rng, BIRTH_PROVINCES)}${centuryAndSex}${digits(birthYear % 100, 2)}${digits(int(rng, 0, 999_999), 6)}`;
    if (seen.has(cccd)) continue;
    seen.add(cccd);
    const district = pick(rng, DISTRICTS);
    citizens.push({
      cccd,
      fullName: `${pick(rng, FAMILY_NAMES)} ${pick(rng, MIDDLE_NAMES[sex])} ${pick(rng, GIVEN_NAMES[sex])}`,
      sex,
      birthYear,
      district,
      ward: pick(rng, district.wards),
      street: `Số ${int(rng, 1, 199)} ${rng() < 0.5 ? `ngõ ${int(rng, 2, 350)} ` : ''}${pick(rng, district.streets)}`,
    });
  }
  return citizens;
}

/**
 * Realistic records of all four agencies about one small, consistent population, for demos and
 * end-to-end tests:
 * - every citizen has a valid CCCD, owns one or two vehicles (Hà Nội plates) and has dossiers open
 *   at the one-stop-shop desks;
 * - about half represent an enterprise (valid check digit) that was registered after its founding
 *   dossier, is a taxpayer and owes tax; some are amended or suspended;
 * - some citizens run a household business with a tax code of its own;
 * - some vehicles are transferred to the next citizen, after a transfer dossier, and some withdrawn.
 *
 * Each agency's list is in dependency order (registrations, then changes, each record's versions
 * increasing), and every record passes its connector's native schema and mapping. Dates lie between
 * 2022 and mid-2025. The same `seed` and `citizens` give the same data.
 */
export function generateDemoData(options: { seed: number; citizens: number }): DemoData {
  const people = generateDemoCitizens(options.seed, options.citizens);
  const rng = random(options.seed ^ 0x5eed);
  const registrations: DemoData = { dossier: [], tax: [], 'business-registration': [], vehicle: [] };
  const changes: DemoData = { dossier: [], tax: [], 'business-registration': [], vehicle: [] };
  const taxCodes = new Set<string>();
  const plates = new Set<string>();
  const names = new Set<string>();
  let dossierSeq = 0;
  let vehicleSeq = 0;

  const newTaxCode = (): string => {
    for (;;) {
      const code = withCheckDigit(`01${digits(int(rng, 0, 9_999_999), 7)}`);
      if (code && !taxCodes.has(code)) {
        taxCodes.add(code);
        return code;
      }
    }
  };
  const citizen = (p: DemoCitizen): NativeParty => ({ loaiDoiTuong: 'CONG_DAN', soDinhDanh: p.cccd });
  const enterprise = (code: string): NativeParty => ({ loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: code });

  /** A dossier received at `at`, with a status change or two later on. */
  const fileDossier = (
    procedure: Procedure,
    applicant: NativeParty,
    district: District,
    at: number,
    settle: boolean,
  ) => {
    dossierSeq += 1;
    const local = hanoiIso(at);
    const dossierId = `${district.dossierUnit}.H26-${local.slice(2, 4)}${local.slice(5, 7)}${local.slice(8, 10)}-${digits(dossierSeq, 4)}`;
    const maBanGhi = `HS-${local.slice(0, 4)}-${digits(870_000 + dossierSeq, 7)}`;
    const handler = procedure.handler === 'district' ? `HN-UBND-${district.code}` : procedure.handler;
    registrations.dossier.push({
      loaiBanGhi: 'TIEP_NHAN',
      maBanGhi,
      phienBan: 1,
      maHoSo: dossierId,
      maThuTuc: procedure.code,
      tenThuTuc: procedure.name,
      nguoiNop: applicant,
      coQuanTiepNhan: rng() < 0.6 ? `HN-UBND-${district.code}` : 'HN-TTHCC',
      hinhThucNop: pick(rng, [
        'TRUC_TIEP',
        'TRUC_TUYEN_MOT_PHAN',
        'TRUC_TUYEN_TOAN_TRINH',
        'TRUC_TUYEN_TOAN_TRINH',
      ] as const),
      ngayTiepNhan: local,
      ngayHenTra: hanoiIso(officeTime(rng, at, procedure.days)),
    });
    const processing = officeTime(rng, at, 1);
    changes.dossier.push({
      loaiBanGhi: 'CHUYEN_TRANG_THAI',
      maBanGhi,
      phienBan: 2,
      maHoSo: dossierId,
      nguoiNop: applicant,
      trangThai: 'DANG_XU_LY',
      coQuanXuLy: handler,
      thoiDiemChuyen: hanoiIso(processing),
    });
    if (!settle) return;
    const supplement = rng() < 0.3;
    changes.dossier.push({
      loaiBanGhi: 'CHUYEN_TRANG_THAI',
      maBanGhi,
      phienBan: 3,
      maHoSo: dossierId,
      nguoiNop: applicant,
      trangThai: supplement ? 'YEU_CAU_BO_SUNG' : 'DA_CO_KET_QUA',
      coQuanXuLy: handler,
      thoiDiemChuyen: hanoiIso(officeTime(rng, processing, Math.max(1, procedure.days - 1))),
      ...(supplement ? { ghiChu: 'Đề nghị bổ sung bản sao giấy tờ chứng minh quyền sử dụng đất.' } : {}),
    });
  };

  /** A vehicle registered to `owner`; answers its plate and record id for later changes. */
  const registerVehicle = (
    models: readonly VehicleModel[],
    series: readonly string[],
    owner: NativeParty,
    at: number,
  ) => {
    const model = pick(rng, models);
    let plate: string;
    do {
      const number = digits(int(rng, 0, 99_999), 5);
      plate = `${pick(rng, PLATE_PROVINCES)}${pick(rng, series)}-${number.slice(0, 3)}.${number.slice(3)}`;
    } while (plates.has(plate));
    plates.add(plate);
    vehicleSeq += 1;
    const year = hanoiIso(at).slice(0, 4);
    const maBanGhi = `DKX-${year}-${digits(100_000 + vehicleSeq, 6)}`;
    let vin = model.wmi;
    while (vin.length < 11) vin += VIN_CHARS[int(rng, 0, VIN_CHARS.length - 1)];
    registrations.vehicle.push({
      loaiBanGhi: 'DANG_KY_MOI',
      maBanGhi,
      phienBan: 1,
      bienSo: plate,
      soKhung: `${vin}${digits(vehicleSeq % 1_000_000, 6)}`,
      soMay: `${model.enginePrefix}${digits(int(rng, 0, 9_999_999), 7)}`,
      loaiXe: model.kind,
      nhanHieu: model.brand,
      soLoai: model.model,
      chuXe: owner,
      ngayDangKy: hanoiIso(at),
    });
    return { plate, maBanGhi };
  };

  people.forEach((person, i) => {
    const me = citizen(person);
    const t0 = START + Math.floor(rng() * SPAN);

    for (let d = int(rng, 1, 2); d > 0; d -= 1) {
      fileDossier(
        pick(rng, CITIZEN_PROCEDURES),
        me,
        person.district,
        officeTime(rng, t0, int(rng, 0, 120)),
        rng() < 0.6,
      );
    }

    // Vehicles: a motorbike nearly always, a car for some; one may go to the next citizen.
    const owned = [];
    if (rng() < 0.9 || i % 2 === 0)
      owned.push(registerVehicle(BIKE_MODELS, BIKE_SERIES, me, officeTime(rng, t0, int(rng, 0, 60))));
    if (rng() < 0.4 || owned.length === 0)
      owned.push(registerVehicle(CAR_MODELS, CAR_SERIES, me, officeTime(rng, t0, int(rng, 0, 60))));
    const buyer = people[(i + 1) % people.length];
    const sold = owned[0];
    const transfers = people.length > 1 && (i % 4 === 0 || rng() < 0.2);
    if (transfers) {
      const filed = officeTime(rng, t0, int(rng, 90, 120));
      fileDossier(PROCEDURES.vehicleTransfer, citizen(buyer), buyer.district, filed, true);
      changes.vehicle.push({
        loaiBanGhi: 'SANG_TEN',
        maBanGhi: sold.maBanGhi,
        phienBan: 2,
        bienSo: sold.plate,
        chuCu: me,
        chuMoi: citizen(buyer),
        ngaySangTen: hanoiIso(officeTime(rng, filed, 2)),
      });
    }
    const withdrawn = owned[owned.length - 1];
    if (rng() < 0.1 && !(transfers && withdrawn === sold)) {
      changes.vehicle.push({
        loaiBanGhi: 'THU_HOI',
        maBanGhi: withdrawn.maBanGhi,
        phienBan: 2,
        bienSo: withdrawn.plate,
        chuXe: me,
        lyDoThuHoi: pick(rng, ['HU_HONG', 'BI_MAT', 'DI_CHUYEN_TINH_KHAC'] as const),
        ngayThuHoi: hanoiIso(officeTime(rng, t0, int(rng, 130, 170))),
      });
    }

    if (i % 2 === 0 || rng() < 0.2) {
      // An enterprise founded by this citizen: founding dossier, registration, then its taxpayer records.
      const code = newTaxCode();
      const legalForm = pick(rng, ['DNTN', 'TNHH_1TV', 'TNHH_1TV', 'TNHH_2TV_TRO_LEN', 'CO_PHAN'] as const);
      const prefix = {
        DNTN: 'DOANH NGHIỆP TƯ NHÂN',
        TNHH_1TV: 'CÔNG TY TNHH',
        TNHH_2TV_TRO_LEN: 'CÔNG TY TNHH',
        CO_PHAN: 'CÔNG TY CỔ PHẦN',
      }[legalForm];
      let name = `${prefix} ${pick(rng, ENTERPRISE_TRADES)} ${pick(rng, ENTERPRISE_BRANDS)}`;
      for (let n = 2; names.has(name); n += 1) name = `${name.replace(/ \d+$/, '')} ${n}`;
      names.add(name);
      const district = pick(rng, DISTRICTS);
      const filed = officeTime(rng, t0, int(rng, 0, 30));
      fileDossier(
        legalForm === 'DNTN' ? PROCEDURES.soleProprietorship : PROCEDURES.singleMemberLlc,
        me,
        district,
        filed,
        true,
      );
      const registeredAt = officeTime(rng, filed, 3);
      const br = `DN-${code}`;
      registrations['business-registration'].push({
        loaiBanGhi: 'DANG_KY_MOI',
        maBanGhi: br,
        phienBan: 1,
        maSoDoanhNghiep: code,
        tenDoanhNghiep: name,
        loaiHinh: legalForm,
        diaChiTruSo: {
          soNhaDuongPho: `Số ${int(rng, 1, 299)} ${pick(rng, district.streets)}`,
          phuongXa: pick(rng, district.wards),
          quanHuyen: district.name,
          tinhThanhPho: PROVINCE_NAME,
        },
        cccdNguoiDaiDien: person.cccd,
        vonDieuLe: String(int(rng, 1, 200) * 100_000_000),
        ngayDangKy: hanoiIso(registeredAt),
      });
      const taxRecord = `DKT-${hanoiIso(registeredAt).slice(0, 4)}-${code.slice(3, 9)}`;
      registrations.tax.push({
        loaiBanGhi: 'DANG_KY_THUE',
        maBanGhi: taxRecord,
        phienBan: 1,
        mst: code,
        loaiNnt: 'DOANH_NGHIEP',
        tenNguoiNopThue: name,
        coQuanThueQuanLy: district.taxOffice,
        ngayCapMst: hanoiIso(officeTime(rng, registeredAt, 1)),
      });
      let version = 1;
      if (rng() < 0.5) {
        // Raised capital, after a dossier the enterprise filed itself.
        const amendFiled = officeTime(rng, registeredAt, int(rng, 60, 120));
        fileDossier(PROCEDURES.enterpriseAmendment, enterprise(code), district, amendFiled, true);
        version += 1;
        changes['business-registration'].push({
          loaiBanGhi: 'DANG_KY_THAY_DOI',
          maBanGhi: br,
          phienBan: version,
          maSoDoanhNghiep: code,
          lanThayDoi: 1,
          ngayThayDoi: hanoiIso(officeTime(rng, amendFiled, 3)),
          vonDieuLe: String(int(rng, 201, 500) * 100_000_000),
        });
      }
      if (rng() < 0.3)
        fileDossier(
          pick(rng, ENTERPRISE_PROCEDURES),
          enterprise(code),
          district,
          officeTime(rng, registeredAt, 30),
          false,
        );
      changes.tax.push({
        loaiBanGhi: 'CAP_NHAT_NO',
        maBanGhi: taxRecord,
        phienBan: 2,
        mst: code,
        loaiNnt: 'DOANH_NGHIEP',
        soTienNo: String(int(rng, 1, 250_000) * 10_000),
        ngayChotNo: hanoiIso(officeTime(rng, registeredAt, int(rng, 130, 150))),
      });
      if (rng() < 0.2) {
        const recorded = officeTime(rng, registeredAt, int(rng, 160, 170));
        const effective = hanoiIso(officeTime(rng, recorded, 14));
        const reason = `Doanh nghiệp thông báo tạm ngừng kinh doanh từ ${effective.slice(8, 10)}/${effective.slice(5, 7)}/${effective.slice(0, 4)}`;
        changes['business-registration'].push({
          loaiBanGhi: 'THAY_DOI_TINH_TRANG',
          maBanGhi: br,
          phienBan: version + 1,
          maSoDoanhNghiep: code,
          tinhTrang: 'TAM_NGUNG_KINH_DOANH',
          ngayHieuLuc: effective,
          ngayCapNhat: hanoiIso(recorded),
          lyDo: reason,
        });
        changes.tax.push({
          loaiBanGhi: 'THAY_DOI_TRANG_THAI',
          maBanGhi: taxRecord,
          phienBan: 3,
          mst: code,
          loaiNnt: 'DOANH_NGHIEP',
          trangThai: 'TAM_NGUNG_KINH_DOANH',
          ngayHieuLuc: effective,
          ngayCapNhat: hanoiIso(officeTime(rng, recorded, 2)),
          lyDo: reason,
        });
      }
      if (rng() < 0.5)
        registerVehicle(
          TRUCK_MODELS,
          TRUCK_SERIES,
          enterprise(code),
          officeTime(rng, registeredAt, int(rng, 10, 40)),
        );
    } else if (rng() < 0.5) {
      // A household business: its own tax code, held by the citizen.
      const filed = officeTime(rng, t0, int(rng, 0, 30));
      fileDossier(PROCEDURES.householdBusiness, me, person.district, filed, true);
      const code = newTaxCode();
      const issued = officeTime(rng, filed, 5);
      registrations.tax.push({
        loaiBanGhi: 'DANG_KY_THUE',
        maBanGhi: `DKT-${hanoiIso(issued).slice(0, 4)}-${code.slice(3, 9)}`,
        phienBan: 1,
        mst: code,
        loaiNnt: 'HO_KINH_DOANH',
        soCccd: person.cccd,
        tenNguoiNopThue: `Hộ kinh doanh ${person.fullName}`,
        coQuanThueQuanLy: person.district.taxOffice,
        ngayCapMst: hanoiIso(issued),
      });
    }
  });

  const all = {} as DemoData;
  for (const agency of Object.keys(registrations) as TopicName[]) {
    (all as Record<TopicName, unknown[]>)[agency] = [...registrations[agency], ...changes[agency]];
  }
  return all;
}

/**
 * `count` valid, distinct records of one agency for benchmarks, cheap to make (no sets, no
 * retries): identities are derived from the record's index, so any count up to millions stays
 * distinct. Records come in groups about one entity, in dependency order: a registration, then its
 * changes with increasing versions. Dates start in 2023 and advance a second per record.
 */
export function generateRecords<A extends TopicName>(
  agency: A,
  count: number,
  seed: number,
): NativeRecords[A][] {
  const make = RECORD_MAKERS[agency] as (k: number, salt: number) => NativeRecords[A];
  const salt = (seed >>> 0) % 1000;
  const out = new Array<NativeRecords[A]>(count);
  for (let k = 0; k < count; k += 1) out[k] = make(k, salt);
  return out;
}

const BENCH_START = Date.UTC(2023, 0, 2, 1);
const at = (k: number): string => hanoiIso(BENCH_START + k * 1000);

/** A distinct CCCD for each entity: 6 digits from its number, the birth year and sex from the rest. */
function benchCccd(entity: number): string {
  const combo = Math.floor(entity / 1_000_000) % 80;
  return `001${combo % 2}${digits(60 + Math.floor(combo / 2), 2)}${digits(entity % 1_000_000, 6)}`;
}

/**
 * A distinct, valid tax code for each entity: `01`, then 7 digits from the entity number times 3,
 * moved on to the next prefix when a prefix has no check digit. Within ten consecutive prefixes the
 * weighted sums step by 3 (mod 11), so at most one fails, and never more than two in a row: three
 * prefixes per entity keep the codes distinct for 3.3 million entities.
 */
function benchTaxCode(entity: number): string {
  const base = entity * 3;
  for (let step = 0; ; step += 1) {
    const code = withCheckDigit(`01${digits((base + step) % 10_000_000, 7)}`);
    if (code) return code;
  }
}

function benchPlate(entity: number): string {
  const number = digits(entity % 100_000, 5);
  const rest = Math.floor(entity / 100_000);
  const series = [...CAR_SERIES, ...BIKE_SERIES][rest % (CAR_SERIES.length + BIKE_SERIES.length)];
  const province =
    PLATE_PROVINCES[Math.floor(rest / (CAR_SERIES.length + BIKE_SERIES.length)) % PLATE_PROVINCES.length];
  return `${province}${series}-${number.slice(0, 3)}.${number.slice(3)}`;
}

const RECORD_MAKERS: { [A in TopicName]: (k: number, salt: number) => NativeRecords[A] } = {
  dossier: (k, salt) => {
    const entity = Math.floor(k / 2);
    // Both records of a dossier carry the reception's date in its id.
    const received = at(entity * 2);
    const maHoSo = `000.20.${digits(salt % 100, 2)}.H26-${received.slice(2, 4)}${received.slice(5, 7)}${received.slice(8, 10)}-${digits(entity % 1_000_000, 6)}`;
    const common = {
      maBanGhi: `HS-B${salt}-${entity}`,
      maHoSo,
      nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: benchCccd(entity) } as const,
    };
    if (k % 2 === 0) {
      return {
        loaiBanGhi: 'TIEP_NHAN',
        ...common,
        phienBan: 1,
        maThuTuc: PROCEDURES.buildingPermit.code,
        tenThuTuc: PROCEDURES.buildingPermit.name,
        coQuanTiepNhan: 'HN-UBND-LONGBIEN',
        hinhThucNop: 'TRUC_TUYEN_TOAN_TRINH',
        ngayTiepNhan: received,
        ngayHenTra: hanoiIso(BENCH_START + k * 1000 + 15 * DAY),
      };
    }
    return {
      loaiBanGhi: 'CHUYEN_TRANG_THAI',
      ...common,
      phienBan: 2,
      trangThai: 'DANG_XU_LY',
      coQuanXuLy: 'HN-UBND-LONGBIEN',
      thoiDiemChuyen: at(k),
    };
  },
  tax: (k, salt) => {
    const entity = Math.floor(k / 3);
    const common = {
      maBanGhi: `DKT-B${salt}-${entity}`,
      mst: benchTaxCode(entity),
      loaiNnt: 'DOANH_NGHIEP',
    } as const;
    switch (k % 3) {
      case 0:
        return {
          loaiBanGhi: 'DANG_KY_THUE',
          ...common,
          phienBan: 1,
          tenNguoiNopThue: `CÔNG TY TNHH ${ENTERPRISE_TRADES[entity % ENTERPRISE_TRADES.length]} ${entity}`,
          coQuanThueQuanLy: '10119',
          ngayCapMst: at(k),
        };
      case 1:
        return {
          loaiBanGhi: 'CAP_NHAT_NO',
          ...common,
          phienBan: 2,
          soTienNo: String((k * 7919) % 1_000_000_000),
          ngayChotNo: at(k),
        };
      default:
        return {
          loaiBanGhi: 'THAY_DOI_TRANG_THAI',
          ...common,
          phienBan: 3,
          trangThai: 'TAM_NGUNG_KINH_DOANH',
          ngayHieuLuc: at(k + 86_400),
          ngayCapNhat: at(k),
        };
    }
  },
  'business-registration': (k, salt) => {
    const entity = Math.floor(k / 3);
    const code = benchTaxCode(entity);
    const common = { maBanGhi: `DN-B${salt}-${code}`, maSoDoanhNghiep: code };
    switch (k % 3) {
      case 0:
        return {
          loaiBanGhi: 'DANG_KY_MOI',
          ...common,
          phienBan: 1,
          tenDoanhNghiep: `CÔNG TY TNHH ${ENTERPRISE_TRADES[entity % ENTERPRISE_TRADES.length]} ${entity}`,
          loaiHinh: 'TNHH_1TV',
          diaChiTruSo: {
            soNhaDuongPho: `Số ${(entity % 199) + 1} phố Nguyễn Văn Cừ`,
            phuongXa: 'Phường Bồ Đề',
            quanHuyen: 'Quận Long Biên',
            tinhThanhPho: PROVINCE_NAME,
          },
          cccdNguoiDaiDien: benchCccd(entity),
          vonDieuLe: '5000000000',
          ngayDangKy: at(k),
        };
      case 1:
        return {
          loaiBanGhi: 'DANG_KY_THAY_DOI',
          ...common,
          phienBan: 2,
          lanThayDoi: 1,
          ngayThayDoi: at(k),
          vonDieuLe: '8000000000',
        };
      default:
        return {
          loaiBanGhi: 'THAY_DOI_TINH_TRANG',
          ...common,
          phienBan: 3,
          tinhTrang: 'TAM_NGUNG_KINH_DOANH',
          ngayHieuLuc: at(k + 86_400),
          ngayCapNhat: at(k),
        };
    }
  },
  vehicle: (k, salt) => {
    const entity = Math.floor(k / 3);
    const owner = { loaiDoiTuong: 'CONG_DAN', soDinhDanh: benchCccd(entity) } as const;
    const common = { maBanGhi: `DKX-B${salt}-${entity}`, bienSo: benchPlate(entity) };
    switch (k % 3) {
      case 0:
        return {
          loaiBanGhi: 'DANG_KY_MOI',
          ...common,
          phienBan: 1,
          soKhung: `RLLV8ACA5RV${digits(entity % 1_000_000, 6)}`,
          soMay: `VFEM24A${digits(entity % 1_000_000, 6)}`,
          loaiXe: 'O_TO_CON',
          nhanHieu: 'VinFast',
          soLoai: 'VF 8',
          chuXe: owner,
          ngayDangKy: at(k),
        };
      case 1:
        return {
          loaiBanGhi: 'SANG_TEN',
          ...common,
          phienBan: 2,
          chuCu: owner,
          chuMoi: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: benchCccd(entity + 1) },
          ngaySangTen: at(k),
        };
      default:
        return {
          loaiBanGhi: 'THU_HOI',
          ...common,
          phienBan: 3,
          chuXe: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: benchCccd(entity + 1) },
          lyDoThuHoi: 'HET_NIEN_HAN',
          ngayThuHoi: at(k),
        };
    }
  },
};

import { type Static, Type } from '@sinclair/typebox';
import { AMOUNT_PATTERN } from '../runtime/identifiers';
import {
  NATIVE_RECORD_FIELDS,
  nativeEnum,
  nativeInstant,
  nativeText,
  oneKindOf,
} from '../runtime/native-mapping';

/**
 * One record of the business registration office's register (Phòng Đăng ký kinh doanh, in the
 * national business registration system), in its own terms. `loaiBanGhi` says which change the
 * record is, and so which event it becomes:
 * - `DANG_KY_MOI`: an enterprise registered (đăng ký thành lập doanh nghiệp) → EnterpriseRegistered;
 * - `DANG_KY_THAY_DOI`: its registration amended (đăng ký thay đổi) → EnterpriseAmended;
 * - `THAY_DOI_TINH_TRANG`: its legal status changed (tình trạng pháp lý) → EnterpriseStatusChanged.
 */

/** Loại hình doanh nghiệp: the legal forms under the Law on Enterprises. */
export const BUSINESS_NATIVE_LEGAL_FORMS = [
  'DNTN',
  'TNHH_1TV',
  'TNHH_2TV_TRO_LEN',
  'CO_PHAN',
  'HOP_DANH',
] as const;

/** Tình trạng pháp lý: an enterprise's legal statuses. */
export const BUSINESS_NATIVE_STATUSES = [
  'DANG_HOAT_DONG',
  'TAM_NGUNG_KINH_DOANH',
  'DANG_GIAI_THE',
  'DA_GIAI_THE',
  'PHA_SAN',
] as const;

const enterpriseCode = Type.String({
  description:
    "Mã số doanh nghiệp: the enterprise code, which is also its tax code, 10 digits with a check digit; Hà Nội's start with 01.",
  minLength: 10,
  maxLength: 10,
});

const legalForm = nativeEnum(
  BUSINESS_NATIVE_LEGAL_FORMS,
  'Loại hình doanh nghiệp: DNTN, doanh nghiệp tư nhân; TNHH_1TV, công ty TNHH một thành viên; TNHH_2TV_TRO_LEN, công ty TNHH hai thành viên trở lên; CO_PHAN, công ty cổ phần; HOP_DANH, công ty hợp danh.',
);

/** Địa chỉ trụ sở chính: the head office address, with the official unit names. */
export const BusinessNativeAddress = Type.Object(
  {
    soNhaDuongPho: nativeText(
      'Số nhà, ngõ, đường/phố: house number, lane and street, e.g. Số 12 ngõ 45 phố Nguyễn Văn Cừ.',
      255,
    ),
    phuongXa: nativeText('Phường/xã/thị trấn: the commune-level unit, e.g. Phường Bồ Đề.', 100),
    quanHuyen: Type.Optional(
      nativeText(
        'Quận/huyện/thị xã: the district-level unit, e.g. Quận Long Biên; absent for addresses recorded since the district level was abolished on 1 July 2025.',
        100,
      ),
    ),
    tinhThanhPho: nativeText('Tỉnh/thành phố: the province-level unit, e.g. Thành phố Hà Nội.', 100),
  },
  { additionalProperties: false, description: 'Địa chỉ trụ sở chính: the head office address.' },
);

const representative = Type.String({
  description:
    "Số CCCD của người đại diện theo pháp luật: the legal representative's 12-digit identity number.",
  minLength: 12,
  maxLength: 12,
});

const capital = Type.String({
  description:
    'Vốn điều lệ: charter capital, or invested capital (vốn đầu tư) for a DNTN, in whole đồng, digits only; text so that amounts beyond 2^53 stay exact.',
  pattern: AMOUNT_PATTERN.source,
});

/** DANG_KY_MOI: an enterprise was registered. */
export const BusinessRegistrationRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('DANG_KY_MOI', { description: 'Loại bản ghi: đăng ký thành lập mới.' }),
    ...NATIVE_RECORD_FIELDS,
    maSoDoanhNghiep: enterpriseCode,
    tenDoanhNghiep: nativeText(
      "Tên doanh nghiệp bằng tiếng Việt: the enterprise's name, as on the certificate.",
      255,
    ),
    loaiHinh: legalForm,
    diaChiTruSo: BusinessNativeAddress,
    cccdNguoiDaiDien: representative,
    vonDieuLe: capital,
    ngayDangKy: nativeInstant('Ngày đăng ký lần đầu: when the enterprise was first registered.'),
  },
  { additionalProperties: false },
);

/** DANG_KY_THAY_DOI: an enterprise's registration was amended; only the changed fields are given. */
export const BusinessAmendmentRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('DANG_KY_THAY_DOI', { description: 'Loại bản ghi: đăng ký thay đổi nội dung.' }),
    ...NATIVE_RECORD_FIELDS,
    maSoDoanhNghiep: enterpriseCode,
    lanThayDoi: Type.Integer({
      description:
        'Đăng ký thay đổi lần thứ: which amendment this is, as printed on the certificate, from 1.',
      minimum: 1,
      maximum: 10_000,
    }),
    ngayThayDoi: nativeInstant('Ngày đăng ký thay đổi: when the amendment was registered.'),
    tenDoanhNghiep: Type.Optional(nativeText('Tên doanh nghiệp mới: the new name, if it changed.', 255)),
    loaiHinh: Type.Optional(legalForm),
    diaChiTruSo: Type.Optional(BusinessNativeAddress),
    cccdNguoiDaiDien: Type.Optional(representative),
    vonDieuLe: Type.Optional(capital),
  },
  { additionalProperties: false },
);

/** THAY_DOI_TINH_TRANG: an enterprise's legal status changed. */
export const BusinessStatusRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('THAY_DOI_TINH_TRANG', {
      description: 'Loại bản ghi: thay đổi tình trạng pháp lý.',
    }),
    ...NATIVE_RECORD_FIELDS,
    maSoDoanhNghiep: enterpriseCode,
    tinhTrang: nativeEnum(
      BUSINESS_NATIVE_STATUSES,
      'Tình trạng pháp lý: DANG_HOAT_DONG, operating; TAM_NGUNG_KINH_DOANH, temporarily suspended; DANG_GIAI_THE, being dissolved; DA_GIAI_THE, dissolved; PHA_SAN, declared bankrupt.',
    ),
    ngayHieuLuc: nativeInstant('Ngày hiệu lực: when the new status takes effect; may lie ahead.'),
    ngayCapNhat: nativeInstant('Ngày cập nhật: when the office recorded the change.'),
    lyDo: Type.Optional(nativeText('Lý do: the stated reason, or the number of the decision.', 1000)),
  },
  { additionalProperties: false },
);

/** The JSON Schema of one business registration record, of any kind. */
export const BusinessRegistrationNativeSchema = oneKindOf(
  'loaiBanGhi',
  {
    DANG_KY_MOI: BusinessRegistrationRecord,
    DANG_KY_THAY_DOI: BusinessAmendmentRecord,
    THAY_DOI_TINH_TRANG: BusinessStatusRecord,
  },
  "One record of the Hà Nội business registration office's register.",
);

export type BusinessNativeAddress = Static<typeof BusinessNativeAddress>;
export type BusinessRegistrationRecord = Static<typeof BusinessRegistrationRecord>;
export type BusinessAmendmentRecord = Static<typeof BusinessAmendmentRecord>;
export type BusinessStatusRecord = Static<typeof BusinessStatusRecord>;
/** One business registration record, of any kind. */
export type BusinessRegistrationNativeRecord =
  BusinessRegistrationRecord | BusinessAmendmentRecord | BusinessStatusRecord;

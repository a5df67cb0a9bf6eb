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
 * One record of the tax department's taxpayer register (Cục Thuế thành phố Hà Nội), in its own
 * terms. `loaiBanGhi` says which change the record is, and so which event it becomes:
 * - `DANG_KY_THUE`: a taxpayer registered (đăng ký thuế lần đầu) → TaxpayerRegistered;
 * - `THAY_DOI_TRANG_THAI`: its status changed (trạng thái mã số thuế) → TaxpayerStatusChanged;
 * - `CAP_NHAT_NO`: its tax debt recomputed (nợ thuế) → TaxDebtUpdated.
 */

/** Loại người nộp thuế: the kinds of taxpayer. */
export const TAX_NATIVE_TAXPAYER_KINDS = [
  'DOANH_NGHIEP',
  'CA_NHAN',
  'HO_KINH_DOANH',
  'TO_CHUC_KHAC',
] as const;

/** Trạng thái mã số thuế: a tax code's statuses. */
export const TAX_NATIVE_STATUSES = [
  'DANG_HOAT_DONG',
  'TAM_NGUNG_KINH_DOANH',
  'CHAM_DUT_HIEU_LUC_MST',
  'KHONG_HOAT_DONG_TAI_DIA_CHI',
] as const;

/** What every tax record carries: who the taxpayer is. */
const taxpayer = {
  ...NATIVE_RECORD_FIELDS,
  mst: Type.String({
    description:
      'Mã số thuế: the tax code, 10 digits with a check digit, or 13 for a dependent unit (đơn vị phụ thuộc), written 0101234567-001.',
    minLength: 10,
    maxLength: 14,
  }),
  loaiNnt: nativeEnum(
    TAX_NATIVE_TAXPAYER_KINDS,
    'Loại người nộp thuế: DOANH_NGHIEP, an enterprise or its dependent unit; CA_NHAN, an individual (cá nhân); HO_KINH_DOANH, a household business (hộ kinh doanh); TO_CHUC_KHAC, another organisation (tổ chức khác).',
  ),
  soCccd: Type.Optional(
    Type.String({
      description:
        'Số căn cước công dân: the 12-digit identity number of an individual taxpayer or of a household business owner; required for CA_NHAN and HO_KINH_DOANH, absent otherwise.',
      minLength: 12,
      maxLength: 12,
    }),
  ),
};

/** DANG_KY_THUE: a taxpayer was registered and given a tax code. */
export const TaxRegistrationRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('DANG_KY_THUE', { description: 'Loại bản ghi: đăng ký thuế, a registration.' }),
    ...taxpayer,
    tenNguoiNopThue: nativeText("Tên người nộp thuế: the taxpayer's registered name, in Vietnamese.", 255),
    coQuanThueQuanLy: Type.String({
      description: 'Cơ quan thuế quản lý: the code of the tax office managing the taxpayer, e.g. 10119.',
      pattern: '^\\d{3,7}$',
    }),
    ngayCapMst: nativeInstant('Ngày cấp mã số thuế: when the tax code was issued.'),
  },
  { additionalProperties: false },
);

/** THAY_DOI_TRANG_THAI: a taxpayer's status changed. */
export const TaxStatusRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('THAY_DOI_TRANG_THAI', { description: 'Loại bản ghi: thay đổi trạng thái.' }),
    ...taxpayer,
    trangThai: nativeEnum(
      TAX_NATIVE_STATUSES,
      'Trạng thái: DANG_HOAT_DONG, operating; TAM_NGUNG_KINH_DOANH, business temporarily suspended; CHAM_DUT_HIEU_LUC_MST, tax code terminated; KHONG_HOAT_DONG_TAI_DIA_CHI, not operating at the registered address.',
    ),
    ngayHieuLuc: nativeInstant('Ngày hiệu lực: when the new status takes effect; may lie ahead.'),
    ngayCapNhat: nativeInstant('Ngày cập nhật: when the tax department recorded the change.'),
    lyDo: Type.Optional(nativeText('Lý do: the stated reason, or the number of the decision.', 1000)),
  },
  { additionalProperties: false },
);

/** CAP_NHAT_NO: a taxpayer's debt was recomputed. */
export const TaxDebtRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('CAP_NHAT_NO', { description: 'Loại bản ghi: cập nhật nợ thuế.' }),
    ...taxpayer,
    soTienNo: Type.String({
      description:
        'Số tiền nợ: total tax debt including late-payment interest (tiền chậm nộp), in whole đồng, digits only; text so that amounts beyond 2^53 stay exact. 0 when nothing is owed.',
      pattern: AMOUNT_PATTERN.source,
    }),
    ngayChotNo: nativeInstant('Ngày chốt nợ: the moment the debt was computed for.'),
  },
  { additionalProperties: false },
);

/** The JSON Schema of one tax record, of any kind. */
export const TaxNativeSchema = oneKindOf(
  'loaiBanGhi',
  { DANG_KY_THUE: TaxRegistrationRecord, THAY_DOI_TRANG_THAI: TaxStatusRecord, CAP_NHAT_NO: TaxDebtRecord },
  "One record of the Hà Nội tax department's taxpayer register.",
);

export type TaxRegistrationRecord = Static<typeof TaxRegistrationRecord>;
export type TaxStatusRecord = Static<typeof TaxStatusRecord>;
export type TaxDebtRecord = Static<typeof TaxDebtRecord>;
/** One tax record, of any kind. */
export type TaxNativeRecord = TaxRegistrationRecord | TaxStatusRecord | TaxDebtRecord;

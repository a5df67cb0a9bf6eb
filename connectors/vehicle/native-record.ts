import { type Static, Type } from '@sinclair/typebox';
import {
  NATIVE_RECORD_FIELDS,
  NativeParty,
  nativeEnum,
  nativeInstant,
  nativeText,
  oneKindOf,
} from '../runtime/native-mapping';

/**
 * One record of the traffic police's vehicle register (PC08, Phòng Cảnh sát giao thông Hà Nội), in
 * its own terms. `loaiBanGhi` says which change the record is, and so which event it becomes:
 * - `DANG_KY_MOI`: a vehicle registered and given a plate (đăng ký xe lần đầu) → VehicleRegistered;
 * - `SANG_TEN`: its registration passed to a new owner (sang tên xe) → OwnershipTransferred;
 * - `THU_HOI`: its registration withdrawn (thu hồi đăng ký, biển số) → VehicleDeregistered.
 */

/** Loại xe: the kinds of registered vehicle. */
export const VEHICLE_NATIVE_KINDS = [
  'O_TO_CON',
  'O_TO_TAI',
  'O_TO_KHACH',
  'MO_TO',
  'XE_GAN_MAY',
  'RO_MOOC',
] as const;

/** Lý do thu hồi: why a registration is withdrawn. */
export const VEHICLE_NATIVE_WITHDRAWAL_REASONS = [
  'HET_NIEN_HAN',
  'HU_HONG',
  'TAI_XUAT',
  'DI_CHUYEN_TINH_KHAC',
  'BI_MAT',
  'KHAC',
] as const;

const plate = Type.String({
  description:
    'Biển số: the registration plate as on the plate, e.g. 29A-123.45, 30E-678.90, 29A1-234.56 (motorbike) or 29A-1234 (older plate); spacing and case are normalised.',
  minLength: 7,
  maxLength: 16,
});

const party = (description: string) =>
  Type.Object(NativeParty.properties, { additionalProperties: false, description });

/** DANG_KY_MOI: a vehicle was registered and given a plate. */
export const VehicleRegistrationRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('DANG_KY_MOI', { description: 'Loại bản ghi: đăng ký xe lần đầu.' }),
    ...NATIVE_RECORD_FIELDS,
    bienSo: plate,
    soKhung: Type.String({
      description:
        'Số khung: the frame (chassis) number as stamped, usually the 17-character VIN; capital letters and digits.',
      pattern: '^[A-Z0-9-]{5,30}$',
    }),
    soMay: Type.String({
      description: 'Số máy: the engine number as stamped; capital letters and digits.',
      pattern: '^[A-Z0-9-]{3,30}$',
    }),
    loaiXe: nativeEnum(
      VEHICLE_NATIVE_KINDS,
      'Loại xe: O_TO_CON, car of up to 9 seats; O_TO_TAI, truck; O_TO_KHACH, bus of 10 seats or more; MO_TO, motorcycle over 50 cc; XE_GAN_MAY, moped of 50 cc or less or electric; RO_MOOC, trailer or semi-trailer.',
    ),
    nhanHieu: nativeText('Nhãn hiệu: the make, e.g. VinFast.', 100),
    soLoai: Type.Optional(nativeText('Số loại: the model, e.g. VF 8.', 100)),
    chuXe: party('Chủ xe: the registered owner, a citizen or an enterprise.'),
    ngayDangKy: nativeInstant('Ngày đăng ký: when the registration certificate was issued.'),
  },
  { additionalProperties: false },
);

/** SANG_TEN: a vehicle passed to a new owner and keeps its plate. */
export const VehicleTransferRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('SANG_TEN', { description: 'Loại bản ghi: sang tên xe.' }),
    ...NATIVE_RECORD_FIELDS,
    bienSo: plate,
    chuCu: party('Chủ cũ: the owner before the transfer.'),
    chuMoi: party('Chủ mới: the owner after the transfer; not the previous one.'),
    ngaySangTen: nativeInstant("Ngày sang tên: when the new owner's registration was issued."),
  },
  { additionalProperties: false },
);

/** THU_HOI: a vehicle's registration and plate were withdrawn. */
export const VehicleWithdrawalRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('THU_HOI', { description: 'Loại bản ghi: thu hồi đăng ký, biển số.' }),
    ...NATIVE_RECORD_FIELDS,
    bienSo: plate,
    chuXe: party('Chủ xe: the owner at the time of the withdrawal.'),
    lyDoThuHoi: nativeEnum(
      VEHICLE_NATIVE_WITHDRAWAL_REASONS,
      'Lý do thu hồi: HET_NIEN_HAN, past its service life; HU_HONG, damaged beyond repair; TAI_XUAT, re-exported or transferred abroad; DI_CHUYEN_TINH_KHAC, moved to another province; BI_MAT, lost or stolen; KHAC, another reason, given in ghiChu.',
    ),
    ghiChu: Type.Optional(
      nativeText('Ghi chú: the reason in words; required when lyDoThuHoi is KHAC.', 1000),
    ),
    ngayThuHoi: nativeInstant('Ngày thu hồi: when the registration was withdrawn.'),
  },
  { additionalProperties: false },
);

/** The JSON Schema of one vehicle record, of any kind. */
export const VehicleNativeSchema = oneKindOf(
  'loaiBanGhi',
  {
    DANG_KY_MOI: VehicleRegistrationRecord,
    SANG_TEN: VehicleTransferRecord,
    THU_HOI: VehicleWithdrawalRecord,
  },
  "One record of the Hà Nội traffic police's vehicle register.",
);

export type VehicleRegistrationRecord = Static<typeof VehicleRegistrationRecord>;
export type VehicleTransferRecord = Static<typeof VehicleTransferRecord>;
export type VehicleWithdrawalRecord = Static<typeof VehicleWithdrawalRecord>;
/** One vehicle record, of any kind. */
export type VehicleNativeRecord = VehicleRegistrationRecord | VehicleTransferRecord | VehicleWithdrawalRecord;

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
 * One record of the one-stop-shop dossier system (Hệ thống thông tin giải quyết thủ tục hành chính,
 * run by Trung tâm Phục vụ hành chính công), in its own terms. `loaiBanGhi` says which change the
 * record is, and so which event it becomes:
 * - `TIEP_NHAN`: a dossier was received (tiếp nhận hồ sơ) → DossierReceived;
 * - `CHUYEN_TRANG_THAI`: it moved to another processing status → DossierStatusChanged.
 */

/** Hình thức nộp: how a dossier was submitted. */
export const DOSSIER_NATIVE_CHANNELS = [
  'TRUC_TIEP',
  'BUU_CHINH',
  'TRUC_TUYEN_MOT_PHAN',
  'TRUC_TUYEN_TOAN_TRINH',
] as const;

/** Trạng thái hồ sơ: where a dossier stands. */
export const DOSSIER_NATIVE_STATUSES = [
  'DANG_XU_LY',
  'YEU_CAU_BO_SUNG',
  'DA_CO_KET_QUA',
  'TU_CHOI',
  'TRA_LAI',
] as const;

const dossierId = Type.String({
  description:
    "Mã hồ sơ: the dossier id given at reception, the receiving unit's code then the date (yymmdd) and a sequence number, e.g. 000.20.31.H26-241015-0012 (H26 is Hà Nội).",
  pattern: '^\\d{3}\\.\\d{2}\\.\\d{2}\\.H\\d{2}-\\d{6}-\\d{4,6}$',
  maxLength: 40,
});

const applicant = Type.Object(NativeParty.properties, {
  additionalProperties: false,
  description: 'Người nộp hồ sơ: who submitted the dossier, a citizen or an enterprise.',
});

const agencyCode = (description: string) =>
  Type.String({ description, pattern: '^HN-[A-Z0-9]+(-[A-Z0-9]+)*$', maxLength: 40 });

/** TIEP_NHAN: a dossier was received and given its id; the legal time limit starts. */
export const DossierReceptionRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('TIEP_NHAN', { description: 'Loại bản ghi: tiếp nhận hồ sơ, a reception.' }),
    ...NATIVE_RECORD_FIELDS,
    maHoSo: dossierId,
    maThuTuc: Type.String({
      description:
        "Mã thủ tục hành chính: the procedure's code in the national procedure database, e.g. 1.004227, optionally with its local suffix, e.g. 1.004227.000.00.00.H26.",
      pattern: '^\\d\\.\\d{6}(\\.\\d{3}\\.\\d{2}\\.\\d{2}\\.H\\d{2})?$',
      maxLength: 30,
    }),
    tenThuTuc: nativeText("Tên thủ tục: the procedure's official name, in Vietnamese.", 500),
    nguoiNop: applicant,
    coQuanTiepNhan: agencyCode(
      'Cơ quan tiếp nhận: the code of the agency whose desk or portal received it, e.g. HN-UBND-LONGBIEN.',
    ),
    hinhThucNop: nativeEnum(
      DOSSIER_NATIVE_CHANNELS,
      'Hình thức nộp: TRUC_TIEP, in person at a desk; BUU_CHINH, by post; TRUC_TUYEN_MOT_PHAN, partly online (dịch vụ công trực tuyến một phần, formerly level 3); TRUC_TUYEN_TOAN_TRINH, entirely online (toàn trình, formerly level 4).',
    ),
    ngayTiepNhan: nativeInstant('Ngày tiếp nhận: when the dossier was received.'),
    ngayHenTra: nativeInstant(
      'Ngày hẹn trả kết quả: when the result is due under the legal time limit; not before the reception.',
    ),
  },
  { additionalProperties: false },
);

/** CHUYEN_TRANG_THAI: a dossier moved to another processing status. */
export const DossierStatusRecord = Type.Object(
  {
    loaiBanGhi: Type.Literal('CHUYEN_TRANG_THAI', { description: 'Loại bản ghi: chuyển trạng thái hồ sơ.' }),
    ...NATIVE_RECORD_FIELDS,
    maHoSo: dossierId,
    nguoiNop: applicant,
    trangThai: nativeEnum(
      DOSSIER_NATIVE_STATUSES,
      'Trạng thái: DANG_XU_LY, being handled; YEU_CAU_BO_SUNG, the applicant must supplement it (yêu cầu bổ sung hồ sơ); DA_CO_KET_QUA, the result is ready; TU_CHOI, refused (từ chối giải quyết); TRA_LAI, given back without a decision (trả lại hồ sơ).',
    ),
    coQuanXuLy: agencyCode(
      'Cơ quan giải quyết: the code of the agency handling the dossier at this step, e.g. HN-SXD.',
    ),
    thoiDiemChuyen: nativeInstant('Thời điểm chuyển: when the status changed.'),
    ghiChu: Type.Optional(
      nativeText("Ghi chú: the officer's note to the applicant, such as what to supplement.", 2000),
    ),
  },
  { additionalProperties: false },
);

/** The JSON Schema of one dossier record, of any kind. */
export const DossierNativeSchema = oneKindOf(
  'loaiBanGhi',
  { TIEP_NHAN: DossierReceptionRecord, CHUYEN_TRANG_THAI: DossierStatusRecord },
  'One record of the Hà Nội one-stop-shop dossier system.',
);

export type DossierReceptionRecord = Static<typeof DossierReceptionRecord>;
export type DossierStatusRecord = Static<typeof DossierStatusRecord>;
/** One dossier record, of any kind. */
export type DossierNativeRecord = DossierReceptionRecord | DossierStatusRecord;

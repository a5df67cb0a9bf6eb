import {
  type Address,
  type BusinessRegistrationEvent,
  type EnterpriseStatus,
  type LegalForm,
} from '../../schemas/generated/events';
import { type MapContext, type MapResult, type RecordIssue } from '../runtime/agency';
import {
  checkAmount,
  checkCccd,
  checkEnterpriseCode,
  RECORD_ISSUE_CODES,
  valueOrIssue,
} from '../runtime/identifiers';
import { envelopeFor, readInstant } from '../runtime/native-mapping';
import {
  type BUSINESS_NATIVE_LEGAL_FORMS,
  type BUSINESS_NATIVE_STATUSES,
  type BusinessNativeAddress,
  type BusinessRegistrationNativeRecord,
} from './native-record';

const LEGAL_FORMS: Record<(typeof BUSINESS_NATIVE_LEGAL_FORMS)[number], LegalForm> = {
  DNTN: 'SOLE_PROPRIETORSHIP',
  TNHH_1TV: 'SINGLE_MEMBER_LLC',
  TNHH_2TV_TRO_LEN: 'MULTI_MEMBER_LLC',
  CO_PHAN: 'JOINT_STOCK',
  HOP_DANH: 'PARTNERSHIP',
};

const STATUSES: Record<(typeof BUSINESS_NATIVE_STATUSES)[number], EnterpriseStatus> = {
  DANG_HOAT_DONG: 'OPERATING',
  TAM_NGUNG_KINH_DOANH: 'SUSPENDED',
  DANG_GIAI_THE: 'DISSOLVING',
  DA_GIAI_THE: 'DISSOLVED',
  PHA_SAN: 'BANKRUPT',
};

const address = (a: BusinessNativeAddress): Address => ({
  street: a.soNhaDuongPho,
  ward: a.phuongXa,
  district: a.quanHuyen ?? null,
  province: a.tinhThanhPho,
});

/**
 * Maps a business registration record that passed the native schema to its event, keyed by the
 * enterprise code. An amendment must change something: one with no changed field would be an event
 * that says nothing, most likely an export that lost its columns.
 */
export function mapBusinessRegistrationRecord(
  record: BusinessRegistrationNativeRecord,
  { now }: MapContext,
): MapResult<'business-registration'> {
  const issues: RecordIssue[] = [];
  const code = valueOrIssue(
    issues,
    '$.maSoDoanhNghiep',
    RECORD_ISSUE_CODES.INVALID_ENTERPRISE_CODE,
    checkEnterpriseCode(record.maSoDoanhNghiep),
  );
  const representative =
    record.loaiBanGhi !== 'THAY_DOI_TINH_TRANG' && record.cccdNguoiDaiDien !== undefined
      ? valueOrIssue(
          issues,
          '$.cccdNguoiDaiDien',
          RECORD_ISSUE_CODES.INVALID_CCCD,
          checkCccd(record.cccdNguoiDaiDien, now),
        )?.cccd
      : undefined;
  const capital =
    record.loaiBanGhi !== 'THAY_DOI_TINH_TRANG' && record.vonDieuLe !== undefined
      ? valueOrIssue(issues, '$.vonDieuLe', RECORD_ISSUE_CODES.INVALID_AMOUNT, checkAmount(record.vonDieuLe))
      : undefined;
  const subjects = { citizenIds: [representative], enterpriseCodes: [code] };

  let event: BusinessRegistrationEvent | undefined;
  switch (record.loaiBanGhi) {
    case 'DANG_KY_MOI': {
      const registeredAt = readInstant(issues, '$.ngayDangKy', record.ngayDangKy, now);
      if (!code || !representative || !capital || registeredAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('business-registration', record, registeredAt, subjects),
        eventType: 'EnterpriseRegistered',
        payload: {
          'vn.hanoi.lienthong.business_registration.EnterpriseRegistered': {
            enterpriseCode: code,
            name: record.tenDoanhNghiep,
            legalForm: LEGAL_FORMS[record.loaiHinh],
            address: address(record.diaChiTruSo),
            legalRepresentativeCitizenId: representative,
            charterCapital: capital,
            registeredAt,
          },
        },
      };
      break;
    }
    case 'DANG_KY_THAY_DOI': {
      const amendedAt = readInstant(issues, '$.ngayThayDoi', record.ngayThayDoi, now);
      const { tenDoanhNghiep, loaiHinh, diaChiTruSo, cccdNguoiDaiDien, vonDieuLe } = record;
      if (
        [tenDoanhNghiep, loaiHinh, diaChiTruSo, cccdNguoiDaiDien, vonDieuLe].every((v) => v === undefined)
      ) {
        issues.push({
          path: '$',
          code: RECORD_ISSUE_CODES.NOTHING_CHANGED,
          message: 'An amendment must change at least one field',
        });
      }
      if (!code || amendedAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('business-registration', record, amendedAt, subjects),
        eventType: 'EnterpriseAmended',
        payload: {
          'vn.hanoi.lienthong.business_registration.EnterpriseAmended': {
            enterpriseCode: code,
            amendmentNumber: record.lanThayDoi,
            amendedAt,
            name: tenDoanhNghiep ?? null,
            legalForm: loaiHinh ? LEGAL_FORMS[loaiHinh] : null,
            address: diaChiTruSo ? address(diaChiTruSo) : null,
            legalRepresentativeCitizenId: representative ?? null,
            charterCapital: capital ?? null,
          },
        },
      };
      break;
    }
    case 'THAY_DOI_TINH_TRANG': {
      const effectiveAt = readInstant(issues, '$.ngayHieuLuc', record.ngayHieuLuc);
      const recordedAt = readInstant(issues, '$.ngayCapNhat', record.ngayCapNhat, now);
      if (!code || effectiveAt === undefined || recordedAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('business-registration', record, recordedAt, subjects),
        eventType: 'EnterpriseStatusChanged',
        payload: {
          'vn.hanoi.lienthong.business_registration.EnterpriseStatusChanged': {
            enterpriseCode: code,
            status: STATUSES[record.tinhTrang],
            effectiveAt,
            reason: record.lyDo ?? null,
          },
        },
      };
      break;
    }
  }
  return event && code ? { ok: true, value: { key: code, event } } : { ok: false, issues };
}

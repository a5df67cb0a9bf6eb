import { type TaxEvent, type TaxpayerKind, type TaxpayerStatus } from '../../schemas/generated/events';
import { type MapContext, type MapResult, type RecordIssue } from '../runtime/agency';
import {
  checkAmount,
  checkCccd,
  checkTaxCode,
  RECORD_ISSUE_CODES,
  valueOrIssue,
} from '../runtime/identifiers';
import { envelopeFor, readInstant } from '../runtime/native-mapping';
import {
  type TAX_NATIVE_STATUSES,
  type TAX_NATIVE_TAXPAYER_KINDS,
  type TaxNativeRecord,
} from './native-record';

const TAXPAYER_KINDS: Record<(typeof TAX_NATIVE_TAXPAYER_KINDS)[number], TaxpayerKind> = {
  DOANH_NGHIEP: 'ENTERPRISE',
  CA_NHAN: 'INDIVIDUAL',
  HO_KINH_DOANH: 'HOUSEHOLD_BUSINESS',
  TO_CHUC_KHAC: 'ORGANIZATION',
};

const STATUSES: Record<(typeof TAX_NATIVE_STATUSES)[number], TaxpayerStatus> = {
  DANG_HOAT_DONG: 'ACTIVE',
  TAM_NGUNG_KINH_DOANH: 'SUSPENDED',
  CHAM_DUT_HIEU_LUC_MST: 'CLOSED',
  KHONG_HOAT_DONG_TAI_DIA_CHI: 'LEFT_ADDRESS',
};

/**
 * Maps a tax record that passed the native schema to its event, keyed by the canonical tax code.
 *
 * Besides the identifiers' formats, it checks that a person's CCCD is given exactly when the
 * taxpayer is a person (CA_NHAN, HO_KINH_DOANH). An enterprise's enterprise code is its tax code,
 * or for a dependent unit its parent's, so it is derived rather than sent twice.
 */
export function mapTaxRecord(record: TaxNativeRecord, { now }: MapContext): MapResult<'tax'> {
  const issues: RecordIssue[] = [];
  const code = valueOrIssue(issues, '$.mst', RECORD_ISSUE_CODES.INVALID_TAX_CODE, checkTaxCode(record.mst));
  const isPerson = record.loaiNnt === 'CA_NHAN' || record.loaiNnt === 'HO_KINH_DOANH';
  let citizenId: string | undefined;
  if (isPerson && record.soCccd === undefined) {
    issues.push({
      path: '$.soCccd',
      code: RECORD_ISSUE_CODES.MISSING_VALUE,
      message: `A ${record.loaiNnt} taxpayer needs soCccd`,
    });
  } else if (!isPerson && record.soCccd !== undefined) {
    issues.push({
      path: '$.soCccd',
      code: RECORD_ISSUE_CODES.NOT_APPLICABLE,
      message: `A ${record.loaiNnt} taxpayer has no soCccd`,
    });
  } else if (record.soCccd !== undefined) {
    citizenId = valueOrIssue(
      issues,
      '$.soCccd',
      RECORD_ISSUE_CODES.INVALID_CCCD,
      checkCccd(record.soCccd, now),
    )?.cccd;
  }
  const enterpriseCode = record.loaiNnt === 'DOANH_NGHIEP' ? code?.base : undefined;
  const subjects = { citizenIds: [citizenId], enterpriseCodes: [enterpriseCode] };

  let event: TaxEvent | undefined;
  switch (record.loaiBanGhi) {
    case 'DANG_KY_THUE': {
      const registeredAt = readInstant(issues, '$.ngayCapMst', record.ngayCapMst, now);
      if (code === undefined || registeredAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('tax', record, registeredAt, subjects),
        eventType: 'TaxpayerRegistered',
        payload: {
          'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
            taxCode: code.taxCode,
            kind: TAXPAYER_KINDS[record.loaiNnt],
            name: record.tenNguoiNopThue,
            citizenId: citizenId ?? null,
            enterpriseCode: enterpriseCode ?? null,
            managingTaxOffice: record.coQuanThueQuanLy,
            registeredAt,
          },
        },
      };
      break;
    }
    case 'THAY_DOI_TRANG_THAI': {
      const effectiveAt = readInstant(issues, '$.ngayHieuLuc', record.ngayHieuLuc);
      const recordedAt = readInstant(issues, '$.ngayCapNhat', record.ngayCapNhat, now);
      if (code === undefined || effectiveAt === undefined || recordedAt === undefined || issues.length > 0)
        break;
      event = {
        ...envelopeFor('tax', record, recordedAt, subjects),
        eventType: 'TaxpayerStatusChanged',
        payload: {
          'vn.hanoi.lienthong.tax.TaxpayerStatusChanged': {
            taxCode: code.taxCode,
            status: STATUSES[record.trangThai],
            effectiveAt,
            reason: record.lyDo ?? null,
          },
        },
      };
      break;
    }
    case 'CAP_NHAT_NO': {
      const amount = valueOrIssue(
        issues,
        '$.soTienNo',
        RECORD_ISSUE_CODES.INVALID_AMOUNT,
        checkAmount(record.soTienNo),
      );
      const asOf = readInstant(issues, '$.ngayChotNo', record.ngayChotNo, now);
      if (code === undefined || amount === undefined || asOf === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('tax', record, asOf, subjects),
        eventType: 'TaxDebtUpdated',
        payload: { 'vn.hanoi.lienthong.tax.TaxDebtUpdated': { taxCode: code.taxCode, amount, asOf } },
      };
      break;
    }
  }
  if (event === undefined || code === undefined) return { ok: false, issues };
  return { ok: true, value: { key: code.taxCode, event } };
}

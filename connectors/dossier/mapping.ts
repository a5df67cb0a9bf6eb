import { type DossierChannel, type DossierEvent, type DossierStatus } from '../../schemas/generated/events';
import { type MapContext, type MapResult, type RecordIssue } from '../runtime/agency';
import { RECORD_ISSUE_CODES } from '../runtime/identifiers';
import { envelopeFor, mapParty, readInstant } from '../runtime/native-mapping';
import {
  type DOSSIER_NATIVE_CHANNELS,
  type DOSSIER_NATIVE_STATUSES,
  type DossierNativeRecord,
} from './native-record';

const CHANNELS: Record<(typeof DOSSIER_NATIVE_CHANNELS)[number], DossierChannel> = {
  // The contract's DESK covers both: a dossier sent by post is handled as one brought to the desk.
  TRUC_TIEP: 'DESK',
  BUU_CHINH: 'DESK',
  TRUC_TUYEN_MOT_PHAN: 'ONLINE_LEVEL_3',
  TRUC_TUYEN_TOAN_TRINH: 'ONLINE_LEVEL_4',
};

const STATUSES: Record<(typeof DOSSIER_NATIVE_STATUSES)[number], DossierStatus> = {
  DANG_XU_LY: 'PROCESSING',
  YEU_CAU_BO_SUNG: 'SUPPLEMENT_REQUESTED',
  DA_CO_KET_QUA: 'COMPLETED',
  TU_CHOI: 'REJECTED',
  TRA_LAI: 'RETURNED',
};

/**
 * Maps a dossier record that passed the native schema to its event, keyed by the dossier id. The
 * applicant is among the subjects of every event of the dossier, status changes included, so that
 * a lookup of that citizen or enterprise finds the dossier at any step.
 */
export function mapDossierRecord(record: DossierNativeRecord, { now }: MapContext): MapResult<'dossier'> {
  const issues: RecordIssue[] = [];
  const applicant = mapParty(issues, '$.nguoiNop', record.nguoiNop, now);
  const subjects = {
    citizenIds: [applicant?.citizenId],
    enterpriseCodes: [applicant?.enterpriseCode],
    dossierIds: [record.maHoSo],
  };

  let event: DossierEvent | undefined;
  if (record.loaiBanGhi === 'TIEP_NHAN') {
    const receivedAt = readInstant(issues, '$.ngayTiepNhan', record.ngayTiepNhan, now);
    const dueAt = readInstant(issues, '$.ngayHenTra', record.ngayHenTra);
    if (receivedAt !== undefined && dueAt !== undefined && dueAt < receivedAt) {
      issues.push({
        path: '$.ngayHenTra',
        code: RECORD_ISSUE_CODES.DATE_ORDER,
        message: 'The due date is before the reception',
      });
    }
    if (applicant && receivedAt !== undefined && dueAt !== undefined && issues.length === 0) {
      event = {
        ...envelopeFor('dossier', record, receivedAt, subjects),
        eventType: 'DossierReceived',
        payload: {
          'vn.hanoi.lienthong.dossier.DossierReceived': {
            dossierId: record.maHoSo,
            procedureCode: record.maThuTuc,
            procedureName: record.tenThuTuc,
            applicant: applicant.party,
            receivingAgency: record.coQuanTiepNhan,
            channel: CHANNELS[record.hinhThucNop],
            receivedAt,
            dueAt,
          },
        },
      };
    }
  } else {
    const changedAt = readInstant(issues, '$.thoiDiemChuyen', record.thoiDiemChuyen, now);
    if (applicant && changedAt !== undefined && issues.length === 0) {
      event = {
        ...envelopeFor('dossier', record, changedAt, subjects),
        eventType: 'DossierStatusChanged',
        payload: {
          'vn.hanoi.lienthong.dossier.DossierStatusChanged': {
            dossierId: record.maHoSo,
            status: STATUSES[record.trangThai],
            handlingAgency: record.coQuanXuLy,
            changedAt,
            note: record.ghiChu ?? null,
          },
        },
      };
    }
  }
  return event ? { ok: true, value: { key: record.maHoSo, event } } : { ok: false, issues };
}

import {
  type DeregistrationReason,
  type VehicleEvent,
  type VehicleKind,
} from '../../schemas/generated/events';
import { type MapContext, type MapResult, type RecordIssue } from '../runtime/agency';
import { normalizePlate, RECORD_ISSUE_CODES, valueOrIssue } from '../runtime/identifiers';
import { envelopeFor, mapParty, readInstant } from '../runtime/native-mapping';
import {
  type VEHICLE_NATIVE_KINDS,
  type VEHICLE_NATIVE_WITHDRAWAL_REASONS,
  type VehicleNativeRecord,
} from './native-record';

const KINDS: Record<(typeof VEHICLE_NATIVE_KINDS)[number], VehicleKind> = {
  O_TO_CON: 'CAR',
  O_TO_TAI: 'TRUCK',
  O_TO_KHACH: 'BUS',
  MO_TO: 'MOTORCYCLE',
  XE_GAN_MAY: 'MOPED',
  RO_MOOC: 'TRAILER',
};

const REASONS: Record<(typeof VEHICLE_NATIVE_WITHDRAWAL_REASONS)[number], DeregistrationReason> = {
  HET_NIEN_HAN: 'END_OF_LIFE',
  HU_HONG: 'DAMAGED',
  TAI_XUAT: 'RE_EXPORTED',
  DI_CHUYEN_TINH_KHAC: 'MOVED_OUT',
  BI_MAT: 'LOST',
  KHAC: 'OTHER',
};

/**
 * Maps a vehicle record that passed the native schema to its event, keyed by the plate in its
 * canonical form (`29A-123.45`), so that `29a 12345` and `29A-123.45` are one vehicle's events.
 * Every owner the record names is among the subjects: a transfer concerns both.
 */
export function mapVehicleRecord(record: VehicleNativeRecord, { now }: MapContext): MapResult<'vehicle'> {
  const issues: RecordIssue[] = [];
  const plate = valueOrIssue(
    issues,
    '$.bienSo',
    RECORD_ISSUE_CODES.INVALID_PLATE,
    normalizePlate(record.bienSo),
  )?.plate;

  let event: VehicleEvent | undefined;
  switch (record.loaiBanGhi) {
    case 'DANG_KY_MOI': {
      const owner = mapParty(issues, '$.chuXe', record.chuXe, now);
      const registeredAt = readInstant(issues, '$.ngayDangKy', record.ngayDangKy, now);
      if (!plate || !owner || registeredAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('vehicle', record, registeredAt, {
          citizenIds: [owner.citizenId],
          enterpriseCodes: [owner.enterpriseCode],
          plates: [plate],
        }),
        eventType: 'VehicleRegistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleRegistered': {
            plate,
            frameNumber: record.soKhung,
            engineNumber: record.soMay,
            kind: KINDS[record.loaiXe],
            brand: record.nhanHieu,
            model: record.soLoai ?? null,
            owner: owner.party,
            registeredAt,
          },
        },
      };
      break;
    }
    case 'SANG_TEN': {
      const previous = mapParty(issues, '$.chuCu', record.chuCu, now);
      const next = mapParty(issues, '$.chuMoi', record.chuMoi, now);
      if (
        record.chuCu.loaiDoiTuong === record.chuMoi.loaiDoiTuong &&
        record.chuCu.soDinhDanh === record.chuMoi.soDinhDanh
      ) {
        issues.push({
          path: '$.chuMoi',
          code: RECORD_ISSUE_CODES.SAME_OWNER,
          message: 'The new owner is the previous owner',
        });
      }
      const transferredAt = readInstant(issues, '$.ngaySangTen', record.ngaySangTen, now);
      if (!plate || !previous || !next || transferredAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('vehicle', record, transferredAt, {
          citizenIds: [previous.citizenId, next.citizenId],
          enterpriseCodes: [previous.enterpriseCode, next.enterpriseCode],
          plates: [plate],
        }),
        eventType: 'OwnershipTransferred',
        payload: {
          'vn.hanoi.lienthong.vehicle.OwnershipTransferred': {
            plate,
            previousOwner: previous.party,
            newOwner: next.party,
            transferredAt,
          },
        },
      };
      break;
    }
    case 'THU_HOI': {
      const owner = mapParty(issues, '$.chuXe', record.chuXe, now);
      if (record.lyDoThuHoi === 'KHAC' && record.ghiChu === undefined) {
        issues.push({
          path: '$.ghiChu',
          code: RECORD_ISSUE_CODES.MISSING_VALUE,
          message: 'A withdrawal for another reason needs ghiChu',
        });
      }
      const deregisteredAt = readInstant(issues, '$.ngayThuHoi', record.ngayThuHoi, now);
      if (!plate || !owner || deregisteredAt === undefined || issues.length > 0) break;
      event = {
        ...envelopeFor('vehicle', record, deregisteredAt, {
          citizenIds: [owner.citizenId],
          enterpriseCodes: [owner.enterpriseCode],
          plates: [plate],
        }),
        eventType: 'VehicleDeregistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleDeregistered': {
            plate,
            reason: REASONS[record.lyDoThuHoi],
            deregisteredAt,
          },
        },
      };
      break;
    }
  }
  return event && plate ? { ok: true, value: { key: plate, event } } : { ok: false, issues };
}

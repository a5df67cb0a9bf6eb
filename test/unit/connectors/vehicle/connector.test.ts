import { eventIdFor } from '../../../../connectors/runtime/event-id';
import {
  VEHICLE_CSV_COLUMNS,
  vehicleConnector,
  type VehicleNativeRecord,
} from '../../../../connectors/vehicle';
import { expectEncodes, goldenEvent, mapAccepted, mapRefused, nativeChecker } from '../connector-helpers';

const check = nativeChecker(vehicleConnector);

const registration: VehicleNativeRecord = {
  loaiBanGhi: 'DANG_KY_MOI',
  maBanGhi: 'DKX-2024-330145',
  phienBan: 1,
  bienSo: '30E-678.90',
  soKhung: 'RLLV8ACA5RV012345',
  soMay: 'VFEM24A012345',
  loaiXe: 'O_TO_CON',
  nhanHieu: 'VinFast',
  soLoai: 'VF 8',
  chuXe: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001178023456' },
  ngayDangKy: '2024-06-20T10:45:00+07:00',
};
const transfer: VehicleNativeRecord = {
  loaiBanGhi: 'SANG_TEN',
  maBanGhi: 'DKX-2019-102233',
  phienBan: 2,
  bienSo: '29A-123.45',
  chuCu: { loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: '0108912347' },
  chuMoi: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001203007788' },
  ngaySangTen: '2024-09-09T09:10:00+07:00',
};
const withdrawal: VehicleNativeRecord = {
  loaiBanGhi: 'THU_HOI',
  maBanGhi: 'DKX-2004-017760',
  phienBan: 5,
  bienSo: '29C-246.81',
  chuXe: { loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: '0107123452' },
  lyDoThuHoi: 'HET_NIEN_HAN',
  ngayThuHoi: '2024-07-02T14:00:00+07:00',
};

describe('vehicle connector', () => {
  it("is the traffic police's, on the vehicle topic", () => {
    expect(vehicleConnector).toMatchObject({ name: 'vehicle', topic: 'vehicle', agency: 'HN-PC08' });
  });

  describe.each([
    ['VehicleRegistered', registration],
    ['OwnershipTransferred', transfer],
    ['VehicleDeregistered', withdrawal],
  ] as const)('given a record that becomes %s', (eventType, record) => {
    it('passes the native schema', () => {
      expect(check(record)).toEqual([]);
    });

    it('maps to the golden event, which the topic schema encodes', () => {
      const mapped = mapAccepted(vehicleConnector, record);
      expect(mapped.event).toEqual({
        ...goldenEvent('vehicle', eventType),
        eventId: eventIdFor('HN-PC08', record.maBanGhi, record.phienBan),
      });
      expect(mapped.key).toBe(record.bienSo);
      expectEncodes('vehicle', mapped.event);
    });
  });

  it('keys and lists the plate in its canonical form', () => {
    const mapped = mapAccepted(vehicleConnector, { ...transfer, bienSo: '29a 12345' });
    expect(mapped.key).toBe('29A-123.45');
    expect(mapped.event.subjects.plates).toEqual(['29A-123.45']);
    expect(mapped.event.payload).toMatchObject({
      'vn.hanoi.lienthong.vehicle.OwnershipTransferred': { plate: '29A-123.45' },
    });
  });

  it.each([
    ['a bad plate', { ...registration, bienSo: '30E-678.9' }, [['$.bienSo', 'INVALID_PLATE']]],
    [
      'an owner with a bad CCCD',
      { ...registration, chuXe: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '00117802345' } },
      [['$.chuXe.soDinhDanh', 'INVALID_CCCD']],
    ],
    [
      'a transfer to the same owner',
      { ...transfer, chuMoi: transfer.loaiBanGhi === 'SANG_TEN' ? transfer.chuCu : undefined },
      [['$.chuMoi', 'SAME_OWNER']],
    ],
    [
      'a far-future transfer',
      { ...transfer, ngaySangTen: '2099-09-09' },
      [['$.ngaySangTen', 'DATE_IN_FUTURE']],
    ],
    ['another reason without a note', { ...withdrawal, lyDoThuHoi: 'KHAC' }, [['$.ghiChu', 'MISSING_VALUE']]],
  ] as const)('refuses %s', (_case, record, issues) => {
    expect(mapRefused(vehicleConnector, record)).toEqual(issues);
  });

  it('refuses lower-case frame numbers and unknown kinds in the native schema', () => {
    expect(check({ ...registration, soKhung: 'rllv8aca5rv012345' })).toContainEqual({
      path: '/soKhung',
      keyword: 'pattern',
    });
    expect(check({ ...registration, loaiXe: 'XE_DAP' })).toContainEqual({ path: '/loaiXe', keyword: 'enum' });
  });

  it('reads a CSV row of a transfer', () => {
    const cells = Object.fromEntries(VEHICLE_CSV_COLUMNS.map((c) => [c, '']));
    const converted = vehicleConnector.csv.toNative({
      ...cells,
      loaiBanGhi: 'SANG_TEN',
      maBanGhi: 'DKX-2019-102233',
      phienBan: '2',
      bienSo: '29A-123.45',
      'chuCu.loaiDoiTuong': 'DOANH_NGHIEP',
      'chuCu.soDinhDanh': '0108912347',
      'chuMoi.loaiDoiTuong': 'CONG_DAN',
      'chuMoi.soDinhDanh': '001203007788',
      ngaySangTen: '2024-09-09T09:10:00+07:00',
    });
    expect(converted).toEqual({ ok: true, value: transfer });
  });
});

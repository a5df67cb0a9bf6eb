import {
  dossierConnector,
  DOSSIER_CSV_COLUMNS,
  type DossierNativeRecord,
} from '../../../../connectors/dossier';
import { eventIdFor } from '../../../../connectors/runtime/event-id';
import { expectEncodes, goldenEvent, mapAccepted, mapRefused, nativeChecker } from '../connector-helpers';

const check = nativeChecker(dossierConnector);

const reception: DossierNativeRecord = {
  loaiBanGhi: 'TIEP_NHAN',
  maBanGhi: 'HS-2024-0871234',
  phienBan: 1,
  maHoSo: '000.20.31.H26-241015-0012',
  maThuTuc: '1.004227',
  tenThuTuc: 'Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ',
  nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001085012345' },
  coQuanTiepNhan: 'HN-UBND-BACTULIEM',
  hinhThucNop: 'TRUC_TUYEN_TOAN_TRINH',
  ngayTiepNhan: '2024-10-15T08:30:00+07:00',
  ngayHenTra: '2024-11-04T17:00:00+07:00',
};
const statusChange: DossierNativeRecord = {
  loaiBanGhi: 'CHUYEN_TRANG_THAI',
  maBanGhi: 'HS-2024-0874410',
  phienBan: 3,
  maHoSo: '000.22.28.H26-241021-0045',
  nguoiNop: { loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: '0108912347' },
  trangThai: 'YEU_CAU_BO_SUNG',
  coQuanXuLy: 'HN-UBND-TAYHO',
  thoiDiemChuyen: '2024-10-24T14:05:00+07:00',
  ghiChu: 'Đề nghị bổ sung bản vẽ mặt bằng công trình trên lô đất, tỷ lệ 1/500.',
};

describe('dossier connector', () => {
  it("is the public administration service centre's, on the dossier topic", () => {
    expect(dossierConnector).toMatchObject({ name: 'dossier', topic: 'dossier', agency: 'HN-TTHCC' });
  });

  describe.each([
    ['DossierReceived', reception],
    ['DossierStatusChanged', statusChange],
  ] as const)('given a record that becomes %s', (eventType, record) => {
    it('passes the native schema', () => {
      expect(check(record)).toEqual([]);
    });

    it('maps to the golden event, which the topic schema encodes', () => {
      const mapped = mapAccepted(dossierConnector, record);
      expect(mapped.event).toEqual({
        ...goldenEvent('dossier', eventType),
        eventId: eventIdFor('HN-TTHCC', record.maBanGhi, record.phienBan),
      });
      expect(mapped.key).toBe(record.maHoSo);
      expectEncodes('dossier', mapped.event);
    });
  });

  it('maps a dossier sent by post to the desk channel', () => {
    const mapped = mapAccepted(dossierConnector, { ...reception, hinhThucNop: 'BUU_CHINH' });
    expect(mapped.event.payload).toMatchObject({
      'vn.hanoi.lienthong.dossier.DossierReceived': { channel: 'DESK' },
    });
  });

  it.each([
    [
      'an invalid CCCD',
      { ...reception, nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001885012345' } },
      [['$.nguoiNop.soDinhDanh', 'INVALID_CCCD']],
    ],
    [
      'a bad enterprise code',
      { ...statusChange, nguoiNop: { loaiDoiTuong: 'DOANH_NGHIEP', soDinhDanh: '0108912346' } },
      [['$.nguoiNop.soDinhDanh', 'INVALID_ENTERPRISE_CODE']],
    ],
    [
      'a far-future reception',
      { ...reception, ngayTiepNhan: '2099-10-15T08:30:00+07:00', ngayHenTra: '2099-11-04' },
      [['$.ngayTiepNhan', 'DATE_IN_FUTURE']],
    ],
    [
      'a due date before the reception',
      { ...reception, ngayHenTra: '2024-10-14' },
      [['$.ngayHenTra', 'DATE_ORDER']],
    ],
    [
      'a status change in the future',
      { ...statusChange, thoiDiemChuyen: '2030-01-01T08:00:00+07:00' },
      [['$.thoiDiemChuyen', 'DATE_IN_FUTURE']],
    ],
  ] as const)('refuses %s', (_case, record, issues) => {
    expect(mapRefused(dossierConnector, record)).toEqual(issues);
  });

  it('accepts a due date in the future', () => {
    expect(mapAccepted(dossierConnector, { ...reception, ngayHenTra: '2099-01-01' }).event.eventType).toBe(
      'DossierReceived',
    );
  });

  it('refuses malformed dossier ids, procedure codes and nested fields in the native schema', () => {
    expect(check({ ...reception, maHoSo: 'HS-12' })).toContainEqual({ path: '/maHoSo', keyword: 'pattern' });
    expect(check({ ...reception, maThuTuc: '1004227' })).toContainEqual({
      path: '/maThuTuc',
      keyword: 'pattern',
    });
    expect(
      check({
        ...reception,
        nguoiNop: { loaiDoiTuong: 'CONG_DAN', soDinhDanh: '001085012345', hoTen: 'An' },
      }),
    ).toContainEqual({
      path: '/nguoiNop/hoTen',
      keyword: 'additionalProperties',
    });
  });

  it('reads a CSV row, nested columns included', () => {
    const cells = Object.fromEntries(DOSSIER_CSV_COLUMNS.map((c) => [c, '']));
    const converted = dossierConnector.csv.toNative({
      ...cells,
      loaiBanGhi: 'CHUYEN_TRANG_THAI',
      maBanGhi: 'HS-2024-0874410',
      phienBan: '3',
      maHoSo: '000.22.28.H26-241021-0045',
      'nguoiNop.loaiDoiTuong': 'DOANH_NGHIEP',
      'nguoiNop.soDinhDanh': '0108912347',
      trangThai: 'YEU_CAU_BO_SUNG',
      coQuanXuLy: 'HN-UBND-TAYHO',
      thoiDiemChuyen: '2024-10-24T14:05:00+07:00',
      ghiChu: 'Đề nghị bổ sung bản vẽ mặt bằng công trình trên lô đất, tỷ lệ 1/500.',
    });
    expect(converted).toEqual({ ok: true, value: statusChange });
  });
});

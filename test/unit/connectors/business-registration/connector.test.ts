import {
  BUSINESS_REGISTRATION_CSV_COLUMNS,
  businessRegistrationConnector,
  type BusinessRegistrationNativeRecord,
} from '../../../../connectors/business-registration';
import { eventIdFor } from '../../../../connectors/runtime/event-id';
import { expectEncodes, goldenEvent, mapAccepted, mapRefused, nativeChecker } from '../connector-helpers';

const check = nativeChecker(businessRegistrationConnector);

const registration: BusinessRegistrationNativeRecord = {
  loaiBanGhi: 'DANG_KY_MOI',
  maBanGhi: 'DN-0108912347',
  phienBan: 1,
  maSoDoanhNghiep: '0108912347',
  tenDoanhNghiep: 'CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ LONG BIÊN XANH',
  loaiHinh: 'TNHH_1TV',
  diaChiTruSo: {
    soNhaDuongPho: 'Số 12 ngõ 45 phố Nguyễn Văn Cừ',
    phuongXa: 'Phường Bồ Đề',
    quanHuyen: 'Quận Long Biên',
    tinhThanhPho: 'Thành phố Hà Nội',
  },
  cccdNguoiDaiDien: '001085012345',
  vonDieuLe: '5000000000',
  ngayDangKy: '2024-03-11T16:20:00+07:00',
};
const amendment: BusinessRegistrationNativeRecord = {
  loaiBanGhi: 'DANG_KY_THAY_DOI',
  maBanGhi: 'DN-0107123452',
  phienBan: 6,
  maSoDoanhNghiep: '0107123452',
  lanThayDoi: 5,
  ngayThayDoi: '2024-08-05T11:00:00+07:00',
  loaiHinh: 'CO_PHAN',
  diaChiTruSo: {
    soNhaDuongPho: 'Lô CN2, Khu công nghệ cao Hòa Lạc',
    phuongXa: 'Xã Thạch Hòa',
    quanHuyen: 'Huyện Thạch Thất',
    tinhThanhPho: 'Thành phố Hà Nội',
  },
  cccdNguoiDaiDien: '001190004567',
  vonDieuLe: '120000000000',
};
const statusChange: BusinessRegistrationNativeRecord = {
  loaiBanGhi: 'THAY_DOI_TINH_TRANG',
  maBanGhi: 'DN-0109567894',
  phienBan: 9,
  maSoDoanhNghiep: '0109567894',
  tinhTrang: 'TAM_NGUNG_KINH_DOANH',
  ngayHieuLuc: '2024-12-01T00:00:00+07:00',
  ngayCapNhat: '2024-11-18T15:30:00+07:00',
  lyDo: 'Doanh nghiệp thông báo tạm ngừng kinh doanh từ 01/12/2024 đến 30/11/2025',
};

describe('business registration connector', () => {
  it("is the business registration office's, on its topic", () => {
    expect(businessRegistrationConnector).toMatchObject({
      name: 'business-registration',
      topic: 'business-registration',
      agency: 'HN-DKKD',
    });
  });

  describe.each([
    ['EnterpriseRegistered', registration],
    ['EnterpriseAmended', amendment],
    ['EnterpriseStatusChanged', statusChange],
  ] as const)('given a record that becomes %s', (eventType, record) => {
    it('passes the native schema', () => {
      expect(check(record)).toEqual([]);
    });

    it('maps to the golden event, which the topic schema encodes', () => {
      const mapped = mapAccepted(businessRegistrationConnector, record);
      expect(mapped.event).toEqual({
        ...goldenEvent('business-registration', eventType),
        eventId: eventIdFor('HN-DKKD', record.maBanGhi, record.phienBan),
      });
      expect(mapped.key).toBe(record.maSoDoanhNghiep);
      expectEncodes('business-registration', mapped.event);
    });
  });

  it('maps an address without a district, as recorded since July 2025', () => {
    const { quanHuyen: _dropped, ...address } = (
      registration as Extract<BusinessRegistrationNativeRecord, { loaiBanGhi: 'DANG_KY_MOI' }>
    ).diaChiTruSo;
    const mapped = mapAccepted(businessRegistrationConnector, {
      ...registration,
      diaChiTruSo: { ...address, phuongXa: 'Phường Bồ Đề' },
    });
    expect(mapped.event.payload).toMatchObject({
      'vn.hanoi.lienthong.business_registration.EnterpriseRegistered': { address: { district: null } },
    });
    expectEncodes('business-registration', mapped.event);
  });

  it.each([
    [
      'a bad check digit',
      { ...registration, maSoDoanhNghiep: '0108912340' },
      [['$.maSoDoanhNghiep', 'INVALID_ENTERPRISE_CODE']],
    ],
    [
      'a representative with an unknown province',
      { ...registration, cccdNguoiDaiDien: '099085012345' },
      [['$.cccdNguoiDaiDien', 'INVALID_CCCD']],
    ],
    [
      'a representative born in the future',
      { ...amendment, cccdNguoiDaiDien: '001299012345' },
      [['$.cccdNguoiDaiDien', 'INVALID_CCCD']],
    ],
    [
      'a far-future registration',
      { ...registration, ngayDangKy: '2040-03-11' },
      [['$.ngayDangKy', 'DATE_IN_FUTURE']],
    ],
    [
      'an amendment that changes nothing',
      {
        loaiBanGhi: 'DANG_KY_THAY_DOI',
        maBanGhi: 'DN-0107123452',
        phienBan: 6,
        maSoDoanhNghiep: '0107123452',
        lanThayDoi: 5,
        ngayThayDoi: '2024-08-05',
      },
      [['$', 'NOTHING_CHANGED']],
    ],
  ] as const)('refuses %s', (_case, record, issues) => {
    expect(mapRefused(businessRegistrationConnector, record)).toEqual(issues);
  });

  it('reports every issue of a record at once', () => {
    expect(
      mapRefused(businessRegistrationConnector, {
        ...registration,
        maSoDoanhNghiep: '0108912340',
        cccdNguoiDaiDien: '099085012345',
        ngayDangKy: '2040-03-11',
      }),
    ).toEqual([
      ['$.maSoDoanhNghiep', 'INVALID_ENTERPRISE_CODE'],
      ['$.cccdNguoiDaiDien', 'INVALID_CCCD'],
      ['$.ngayDangKy', 'DATE_IN_FUTURE'],
    ]);
  });

  it('reads a CSV row into the nested address, and reports a non-numeric capital', () => {
    const cells = Object.fromEntries(BUSINESS_REGISTRATION_CSV_COLUMNS.map((c) => [c, '']));
    const row = {
      ...cells,
      loaiBanGhi: 'DANG_KY_MOI',
      maBanGhi: 'DN-0108912347',
      phienBan: '1',
      maSoDoanhNghiep: '0108912347',
      tenDoanhNghiep: 'CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ LONG BIÊN XANH',
      loaiHinh: 'TNHH_1TV',
      'diaChiTruSo.soNhaDuongPho': 'Số 12 ngõ 45 phố Nguyễn Văn Cừ',
      'diaChiTruSo.phuongXa': 'Phường Bồ Đề',
      'diaChiTruSo.quanHuyen': 'Quận Long Biên',
      'diaChiTruSo.tinhThanhPho': 'Thành phố Hà Nội',
      cccdNguoiDaiDien: '001085012345',
      vonDieuLe: '5000000000',
      ngayDangKy: '2024-03-11T16:20:00+07:00',
    };
    expect(businessRegistrationConnector.csv.toNative(row)).toEqual({ ok: true, value: registration });
    expect(businessRegistrationConnector.csv.toNative({ ...row, vonDieuLe: '5 tỷ' })).toMatchObject({
      ok: false,
      issues: [{ path: '$.vonDieuLe', code: 'INVALID_AMOUNT' }],
    });
  });
});

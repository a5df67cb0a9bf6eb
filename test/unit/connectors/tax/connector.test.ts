import { eventIdFor } from '../../../../connectors/runtime/event-id';
import { taxConnector, type TaxNativeRecord } from '../../../../connectors/tax';
import {
  expectEncodes,
  goldenEvent,
  mapAccepted,
  mapRefused,
  nativeChecker,
  NOW,
} from '../connector-helpers';

const check = nativeChecker(taxConnector);

const registration: TaxNativeRecord = {
  loaiBanGhi: 'DANG_KY_THUE',
  maBanGhi: 'DKT-2024-155302',
  phienBan: 1,
  mst: '0108912347',
  loaiNnt: 'DOANH_NGHIEP',
  tenNguoiNopThue: 'CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ LONG BIÊN XANH',
  coQuanThueQuanLy: '10119',
  ngayCapMst: '2024-03-12T09:15:00+07:00',
};
const statusChange: TaxNativeRecord = {
  loaiBanGhi: 'THAY_DOI_TRANG_THAI',
  maBanGhi: 'TT-2024-009817',
  phienBan: 4,
  mst: '0109567894',
  loaiNnt: 'DOANH_NGHIEP',
  trangThai: 'KHONG_HOAT_DONG_TAI_DIA_CHI',
  ngayHieuLuc: '2024-10-01',
  ngayCapNhat: '2024-09-30T10:00:00+07:00',
  lyDo: 'Thông báo số 1234/TB-CCT của Chi cục Thuế khu vực Chương Mỹ - Thanh Oai: người nộp thuế không hoạt động tại địa chỉ đã đăng ký',
};
const debt: TaxNativeRecord = {
  loaiBanGhi: 'CAP_NHAT_NO',
  maBanGhi: 'NO-2024-10-0109567894',
  phienBan: 17,
  mst: '0109567894',
  loaiNnt: 'DOANH_NGHIEP',
  soTienNo: '1250000000',
  ngayChotNo: '2024-10-31T23:59:59+07:00',
};

/** The golden event, with the event id this connector derives for it. */
const golden = (eventType: string, record: TaxNativeRecord) => ({
  ...goldenEvent('tax', eventType),
  eventId: eventIdFor('HN-CUCTHUE', record.maBanGhi, record.phienBan),
});

describe('tax connector', () => {
  it("is the tax department's, on the tax topic", () => {
    expect(taxConnector).toMatchObject({ name: 'tax', topic: 'tax', agency: 'HN-CUCTHUE' });
  });

  describe.each([
    ['TaxpayerRegistered', registration],
    ['TaxpayerStatusChanged', statusChange],
    ['TaxDebtUpdated', debt],
  ] as const)('given a record that becomes %s', (eventType, record) => {
    it('passes the native schema', () => {
      expect(check(record)).toEqual([]);
    });

    it('maps to the golden event, which the topic schema encodes', () => {
      const mapped = mapAccepted(taxConnector, record);
      expect(mapped.event).toEqual(golden(eventType, record));
      expect(mapped.key).toBe(record.mst);
      expectEncodes('tax', mapped.event);
    });
  });

  it('maps an individual with a dependent-unit style code and a CCCD', () => {
    const mapped = mapAccepted(taxConnector, {
      ...registration,
      mst: '0108912347001',
      loaiNnt: 'HO_KINH_DOANH',
      soCccd: '001085012345',
      tenNguoiNopThue: 'Hộ kinh doanh Nguyễn Văn An',
    });
    expect(mapped.key).toBe('0108912347-001');
    expect(mapped.event.subjects).toEqual({
      citizenIds: ['001085012345'],
      enterpriseCodes: [],
      plates: [],
      dossierIds: [],
    });
    expect(mapped.event.payload).toMatchObject({
      'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
        kind: 'HOUSEHOLD_BUSINESS',
        citizenId: '001085012345',
        enterpriseCode: null,
      },
    });
    expectEncodes('tax', mapped.event);
  });

  it("gives a dependent unit of an enterprise its parent's enterprise code", () => {
    const mapped = mapAccepted(taxConnector, { ...debt, mst: '0109567894-002' });
    expect(mapped.key).toBe('0109567894-002');
    expect(mapped.event.subjects.enterpriseCodes).toEqual(['0109567894']);
  });

  it('gives the same event id when a record is sent again, and another for a new version', () => {
    const first = mapAccepted(taxConnector, debt).event.eventId;
    expect(mapAccepted(taxConnector, { ...debt }).event.eventId).toBe(first);
    expect(mapAccepted(taxConnector, { ...debt, phienBan: 18 }).event.eventId).not.toBe(first);
  });

  it.each([
    ['a bad check digit', { ...debt, mst: '0109567895' }, [['$.mst', 'INVALID_TAX_CODE']]],
    ['branch 000', { ...debt, mst: '0109567894-000' }, [['$.mst', 'INVALID_TAX_CODE']]],
    ['an individual without CCCD', { ...registration, loaiNnt: 'CA_NHAN' }, [['$.soCccd', 'MISSING_VALUE']]],
    ['an enterprise with a CCCD', { ...debt, soCccd: '001085012345' }, [['$.soCccd', 'NOT_APPLICABLE']]],
    [
      'an invalid CCCD',
      { ...debt, loaiNnt: 'CA_NHAN', soCccd: '003085012345' },
      [['$.soCccd', 'INVALID_CCCD']],
    ],
    [
      'a far-future issue date',
      { ...registration, ngayCapMst: '2031-01-01T08:00:00+07:00' },
      [['$.ngayCapMst', 'DATE_IN_FUTURE']],
    ],
    ['30 February', { ...debt, ngayChotNo: '2024-02-30' }, [['$.ngayChotNo', 'INVALID_DATE']]],
  ] as const)('refuses %s', (_case, record, issues) => {
    expect(mapRefused(taxConnector, record)).toEqual(issues);
  });

  it('accepts a status that takes effect in the future, but not one recorded there', () => {
    expect(mapAccepted(taxConnector, { ...statusChange, ngayHieuLuc: '2030-01-01' }).event.eventType).toBe(
      'TaxpayerStatusChanged',
    );
    expect(mapRefused(taxConnector, { ...statusChange, ngayCapNhat: '2030-01-01' })).toEqual([
      ['$.ngayCapNhat', 'DATE_IN_FUTURE'],
    ]);
  });

  it('accepts a date within the clock skew', () => {
    const soon = new Date(NOW + 7 * 3_600_000 + 4 * 60_000).toISOString().slice(0, 19) + '+07:00';
    expect(mapAccepted(taxConnector, { ...debt, ngayChotNo: soon }).event.occurredAt).toBe(NOW + 4 * 60_000);
  });

  describe('native schema', () => {
    it("reports the faults of the record's own kind only", () => {
      const { soTienNo: _dropped, ...withoutAmount } = debt as Extract<
        TaxNativeRecord,
        { loaiBanGhi: 'CAP_NHAT_NO' }
      >;
      const errors = check({ ...withoutAmount, tenNguoiNopThue: 'x' }).filter((e) => e.keyword !== 'if');
      expect(errors).toEqual([
        { path: '/soTienNo', keyword: 'required' },
        { path: '/tenNguoiNopThue', keyword: 'additionalProperties' },
      ]);
    });

    it('refuses an unknown kind, a numeric amount and a non-ISO date', () => {
      expect(check({ ...debt, loaiBanGhi: 'XOA' })).toContainEqual({ path: '/loaiBanGhi', keyword: 'enum' });
      expect(check({ ...debt, soTienNo: 1250000000 })).toContainEqual({ path: '/soTienNo', keyword: 'type' });
      expect(check({ ...debt, soTienNo: '1.250.000.000' })).toContainEqual({
        path: '/soTienNo',
        keyword: 'pattern',
      });
      expect(check({ ...debt, ngayChotNo: '31/10/2024' })).toContainEqual({
        path: '/ngayChotNo',
        keyword: 'pattern',
      });
      expect(check({ ...debt, phienBan: 0 })).toContainEqual({ path: '/phienBan', keyword: 'minimum' });
    });
  });
});

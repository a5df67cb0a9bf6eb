import { TAX_CSV_COLUMNS, taxConnector } from '../../../../connectors/tax';
import { mapAccepted, nativeChecker } from '../connector-helpers';

const check = nativeChecker(taxConnector);

/** A CSV row as csv-parse gives it: every column, empty strings for the unused ones. */
const row = (cells: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(TAX_CSV_COLUMNS.map((c) => [c, ''])),
  ...cells,
});

const debtRow = row({
  loaiBanGhi: 'CAP_NHAT_NO',
  maBanGhi: 'NO-2024-10-0109567894',
  phienBan: '17',
  mst: '0109567894',
  loaiNnt: 'DOANH_NGHIEP',
  soTienNo: '1250000000',
  ngayChotNo: '2024-10-31T23:59:59+07:00',
});

describe('tax CSV rows', () => {
  it('become a native record that maps like the JSON one', () => {
    const converted = taxConnector.csv.toNative(debtRow);
    expect(converted).toEqual({
      ok: true,
      value: {
        loaiBanGhi: 'CAP_NHAT_NO',
        maBanGhi: 'NO-2024-10-0109567894',
        phienBan: 17,
        mst: '0109567894',
        loaiNnt: 'DOANH_NGHIEP',
        soTienNo: '1250000000',
        ngayChotNo: '2024-10-31T23:59:59+07:00',
      },
    });
    if (!converted.ok) return;
    expect(check(converted.value)).toEqual([]);
    expect(mapAccepted(taxConnector, converted.value).event.eventType).toBe('TaxDebtUpdated');
  });

  it('reports a missing column', () => {
    const { ngayChotNo: _dropped, ...partial } = debtRow;
    expect(taxConnector.csv.toNative(partial)).toEqual({
      ok: false,
      issues: [{ path: '$.ngayChotNo', code: 'MISSING_COLUMN', message: 'Column ngayChotNo is missing' }],
    });
  });

  it('reports a non-numeric amount, version and date, each at its column', () => {
    const converted = taxConnector.csv.toNative({
      ...debtRow,
      soTienNo: '1.250.000.000',
      phienBan: 'v17',
      ngayChotNo: '31/10/2024',
    });
    expect(converted.ok).toBe(false);
    if (converted.ok) return;
    expect(converted.issues.map((i) => [i.path, i.code])).toEqual([
      ['$.phienBan', 'INVALID_INTEGER'],
      ['$.soTienNo', 'INVALID_AMOUNT'],
      ['$.ngayChotNo', 'INVALID_DATE'],
    ]);
  });

  it('refuses a value in a column the record kind does not use', () => {
    const converted = taxConnector.csv.toNative({ ...debtRow, trangThai: 'DANG_HOAT_DONG' });
    expect(converted).toMatchObject({
      ok: false,
      issues: [{ path: '$.trangThai', code: 'COLUMN_NOT_APPLICABLE' }],
    });
  });

  it('leaves empty optional cells out, so the schema reports missing required ones', () => {
    const converted = taxConnector.csv.toNative({ ...debtRow, soTienNo: '' });
    expect(converted.ok).toBe(true);
    if (converted.ok)
      expect(check(converted.value)).toContainEqual({ path: '/soTienNo', keyword: 'required' });
  });

  it('passes an unknown kind on for the schema to refuse', () => {
    const converted = taxConnector.csv.toNative({ ...debtRow, loaiBanGhi: 'XOA' });
    expect(converted.ok).toBe(true);
    if (converted.ok) expect(check(converted.value)).toContainEqual({ path: '/loaiBanGhi', keyword: 'enum' });
  });
});

import { CsvCells, type CsvConversion } from '../runtime/native-csv';

/**
 * The columns of the tax department's CSV export: every field of every record kind, named as in
 * the native record; a row leaves empty the columns its kind does not use.
 */
export const TAX_CSV_COLUMNS = [
  'loaiBanGhi',
  'maBanGhi',
  'phienBan',
  'mst',
  'loaiNnt',
  'soCccd',
  'tenNguoiNopThue',
  'coQuanThueQuanLy',
  'ngayCapMst',
  'trangThai',
  'ngayHieuLuc',
  'ngayCapNhat',
  'lyDo',
  'soTienNo',
  'ngayChotNo',
] as const;

/** One row of the tax department's CSV export as a native tax record. */
export function taxRowToNative(row: Readonly<Record<string, string>>): CsvConversion {
  const cells = new CsvCells(row, TAX_CSV_COLUMNS);
  const loaiBanGhi = cells.text('loaiBanGhi');
  const common = {
    loaiBanGhi,
    maBanGhi: cells.text('maBanGhi'),
    phienBan: cells.integer('phienBan', 1),
    mst: cells.text('mst'),
    loaiNnt: cells.text('loaiNnt'),
    soCccd: cells.text('soCccd'),
  };
  switch (loaiBanGhi) {
    case 'DANG_KY_THUE':
      return cells.finish({
        ...common,
        tenNguoiNopThue: cells.text('tenNguoiNopThue'),
        coQuanThueQuanLy: cells.text('coQuanThueQuanLy'),
        ngayCapMst: cells.instant('ngayCapMst'),
      });
    case 'THAY_DOI_TRANG_THAI':
      return cells.finish({
        ...common,
        trangThai: cells.text('trangThai'),
        ngayHieuLuc: cells.instant('ngayHieuLuc'),
        ngayCapNhat: cells.instant('ngayCapNhat'),
        lyDo: cells.text('lyDo'),
      });
    case 'CAP_NHAT_NO':
      return cells.finish({
        ...common,
        soTienNo: cells.amount('soTienNo'),
        ngayChotNo: cells.instant('ngayChotNo'),
      });
    default:
      // An unknown kind: the native schema names the allowed ones.
      return cells.finish({ ...common, ...cells.rest() });
  }
}

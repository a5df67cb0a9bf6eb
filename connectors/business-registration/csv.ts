import { CsvCells, type CsvConversion } from '../runtime/native-csv';

/**
 * The columns of the business registration office's CSV export: every field of every record kind,
 * named by the native field's path; a row leaves empty the columns its kind does not use.
 */
export const BUSINESS_REGISTRATION_CSV_COLUMNS = [
  'loaiBanGhi',
  'maBanGhi',
  'phienBan',
  'maSoDoanhNghiep',
  'tenDoanhNghiep',
  'loaiHinh',
  'diaChiTruSo.soNhaDuongPho',
  'diaChiTruSo.phuongXa',
  'diaChiTruSo.quanHuyen',
  'diaChiTruSo.tinhThanhPho',
  'cccdNguoiDaiDien',
  'vonDieuLe',
  'ngayDangKy',
  'lanThayDoi',
  'ngayThayDoi',
  'tinhTrang',
  'ngayHieuLuc',
  'ngayCapNhat',
  'lyDo',
] as const;

/** One row of the business registration office's CSV export as a native record. */
export function businessRegistrationRowToNative(row: Readonly<Record<string, string>>): CsvConversion {
  const cells = new CsvCells(row, BUSINESS_REGISTRATION_CSV_COLUMNS);
  const loaiBanGhi = cells.text('loaiBanGhi');
  const common = {
    loaiBanGhi,
    maBanGhi: cells.text('maBanGhi'),
    phienBan: cells.integer('phienBan', 1),
    maSoDoanhNghiep: cells.text('maSoDoanhNghiep'),
  };
  // The fields a registration sets and an amendment may change.
  const registered = () => ({
    tenDoanhNghiep: cells.text('tenDoanhNghiep'),
    loaiHinh: cells.text('loaiHinh'),
    diaChiTruSo: {
      soNhaDuongPho: cells.text('diaChiTruSo.soNhaDuongPho'),
      phuongXa: cells.text('diaChiTruSo.phuongXa'),
      quanHuyen: cells.text('diaChiTruSo.quanHuyen'),
      tinhThanhPho: cells.text('diaChiTruSo.tinhThanhPho'),
    },
    cccdNguoiDaiDien: cells.text('cccdNguoiDaiDien'),
    vonDieuLe: cells.amount('vonDieuLe'),
  });
  switch (loaiBanGhi) {
    case 'DANG_KY_MOI':
      return cells.finish({ ...common, ...registered(), ngayDangKy: cells.instant('ngayDangKy') });
    case 'DANG_KY_THAY_DOI':
      return cells.finish({
        ...common,
        lanThayDoi: cells.integer('lanThayDoi', 1),
        ngayThayDoi: cells.instant('ngayThayDoi'),
        ...registered(),
      });
    case 'THAY_DOI_TINH_TRANG':
      return cells.finish({
        ...common,
        tinhTrang: cells.text('tinhTrang'),
        ngayHieuLuc: cells.instant('ngayHieuLuc'),
        ngayCapNhat: cells.instant('ngayCapNhat'),
        lyDo: cells.text('lyDo'),
      });
    default:
      // An unknown kind: the native schema names the allowed ones.
      return cells.finish({ ...common, ...cells.rest() });
  }
}

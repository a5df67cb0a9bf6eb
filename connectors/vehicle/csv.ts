import { CsvCells, type CsvConversion } from '../runtime/native-csv';

/**
 * The columns of the vehicle register's CSV export: every field of every record kind, named by
 * the native field's path; a row leaves empty the columns its kind does not use.
 */
export const VEHICLE_CSV_COLUMNS = [
  'loaiBanGhi',
  'maBanGhi',
  'phienBan',
  'bienSo',
  'soKhung',
  'soMay',
  'loaiXe',
  'nhanHieu',
  'soLoai',
  'chuXe.loaiDoiTuong',
  'chuXe.soDinhDanh',
  'ngayDangKy',
  'chuCu.loaiDoiTuong',
  'chuCu.soDinhDanh',
  'chuMoi.loaiDoiTuong',
  'chuMoi.soDinhDanh',
  'ngaySangTen',
  'lyDoThuHoi',
  'ghiChu',
  'ngayThuHoi',
] as const;

/** One row of the vehicle register's CSV export as a native vehicle record. */
export function vehicleRowToNative(row: Readonly<Record<string, string>>): CsvConversion {
  const cells = new CsvCells(row, VEHICLE_CSV_COLUMNS);
  const loaiBanGhi = cells.text('loaiBanGhi');
  const common = {
    loaiBanGhi,
    maBanGhi: cells.text('maBanGhi'),
    phienBan: cells.integer('phienBan', 1),
    bienSo: cells.text('bienSo'),
  };
  const party = (prefix: 'chuXe' | 'chuCu' | 'chuMoi') => ({
    loaiDoiTuong: cells.text(`${prefix}.loaiDoiTuong`),
    soDinhDanh: cells.text(`${prefix}.soDinhDanh`),
  });
  switch (loaiBanGhi) {
    case 'DANG_KY_MOI':
      return cells.finish({
        ...common,
        soKhung: cells.text('soKhung'),
        soMay: cells.text('soMay'),
        loaiXe: cells.text('loaiXe'),
        nhanHieu: cells.text('nhanHieu'),
        soLoai: cells.text('soLoai'),
        chuXe: party('chuXe'),
        ngayDangKy: cells.instant('ngayDangKy'),
      });
    case 'SANG_TEN':
      return cells.finish({
        ...common,
        chuCu: party('chuCu'),
        chuMoi: party('chuMoi'),
        ngaySangTen: cells.instant('ngaySangTen'),
      });
    case 'THU_HOI':
      return cells.finish({
        ...common,
        chuXe: party('chuXe'),
        lyDoThuHoi: cells.text('lyDoThuHoi'),
        ghiChu: cells.text('ghiChu'),
        ngayThuHoi: cells.instant('ngayThuHoi'),
      });
    default:
      // An unknown kind: the native schema names the allowed ones.
      return cells.finish({ ...common, ...cells.rest() });
  }
}

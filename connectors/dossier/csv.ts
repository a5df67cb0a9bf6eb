import { CsvCells, type CsvConversion } from '../runtime/native-csv';

/**
 * The columns of the dossier system's CSV export: every field of every record kind, named by the
 * native field's path; a row leaves empty the columns its kind does not use.
 */
export const DOSSIER_CSV_COLUMNS = [
  'loaiBanGhi',
  'maBanGhi',
  'phienBan',
  'maHoSo',
  'nguoiNop.loaiDoiTuong',
  'nguoiNop.soDinhDanh',
  'maThuTuc',
  'tenThuTuc',
  'coQuanTiepNhan',
  'hinhThucNop',
  'ngayTiepNhan',
  'ngayHenTra',
  'trangThai',
  'coQuanXuLy',
  'thoiDiemChuyen',
  'ghiChu',
] as const;

/** One row of the dossier system's CSV export as a native dossier record. */
export function dossierRowToNative(row: Readonly<Record<string, string>>): CsvConversion {
  const cells = new CsvCells(row, DOSSIER_CSV_COLUMNS);
  const loaiBanGhi = cells.text('loaiBanGhi');
  const common = {
    loaiBanGhi,
    maBanGhi: cells.text('maBanGhi'),
    phienBan: cells.integer('phienBan', 1),
    maHoSo: cells.text('maHoSo'),
    nguoiNop: {
      loaiDoiTuong: cells.text('nguoiNop.loaiDoiTuong'),
      soDinhDanh: cells.text('nguoiNop.soDinhDanh'),
    },
  };
  switch (loaiBanGhi) {
    case 'TIEP_NHAN':
      return cells.finish({
        ...common,
        maThuTuc: cells.text('maThuTuc'),
        tenThuTuc: cells.text('tenThuTuc'),
        coQuanTiepNhan: cells.text('coQuanTiepNhan'),
        hinhThucNop: cells.text('hinhThucNop'),
        ngayTiepNhan: cells.instant('ngayTiepNhan'),
        ngayHenTra: cells.instant('ngayHenTra'),
      });
    case 'CHUYEN_TRANG_THAI':
      return cells.finish({
        ...common,
        trangThai: cells.text('trangThai'),
        coQuanXuLy: cells.text('coQuanXuLy'),
        thoiDiemChuyen: cells.instant('thoiDiemChuyen'),
        ghiChu: cells.text('ghiChu'),
      });
    default:
      // An unknown kind: the native schema names the allowed ones.
      return cells.finish({ ...common, ...cells.rest() });
  }
}

/**
 * The stuff demo records are made of: Vietnamese names, Hà Nội's districts and wards (as they were
 * before the district level was abolished on 1 July 2025), procedures, vehicles. Plausible, not
 * authoritative: procedure codes have the national database's shape but only 1.004227 was checked
 * against it, and agency, unit and tax office codes are made up in the format the fixtures use.
 */

export const FAMILY_NAMES = [
  'Nguyễn',
  'Nguyễn',
  'Nguyễn',
  'Trần',
  'Trần',
  'Lê',
  'Lê',
  'Phạm',
  'Hoàng',
  'Vũ',
  'Phan',
  'Đặng',
  'Bùi',
  'Đỗ',
  'Ngô',
  'Dương',
  'Lý',
  'Đinh',
  'Trịnh',
  'Đào',
] as const;

export const MIDDLE_NAMES = {
  male: ['Văn', 'Đức', 'Minh', 'Quang', 'Hữu', 'Tuấn', 'Xuân', 'Mạnh', 'Thành', 'Gia'],
  female: ['Thị', 'Thị', 'Ngọc', 'Thu', 'Thanh', 'Minh', 'Phương', 'Bích', 'Hải', 'Khánh'],
} as const;

export const GIVEN_NAMES = {
  male: [
    'Anh',
    'Hùng',
    'Dũng',
    'Tuấn',
    'Hải',
    'Long',
    'Nam',
    'Sơn',
    'Thắng',
    'Quân',
    'Khoa',
    'Phúc',
    'Đạt',
    'Huy',
    'Trung',
    'Việt',
  ],
  female: [
    'Hương',
    'Lan',
    'Mai',
    'Hoa',
    'Linh',
    'Trang',
    'Thảo',
    'Ngọc',
    'Hà',
    'Huyền',
    'Nhung',
    'Yến',
    'Giang',
    'Hằng',
    'Loan',
    'Vân',
  ],
} as const;

/** Provinces of birth registration, Hà Nội the most frequent; codes from CCCD_PROVINCE_CODES. */
export const BIRTH_PROVINCES = [
  '001',
  '001',
  '001',
  '001',
  '001',
  '001',
  '036',
  '034',
  '038',
  '040',
  '030',
  '033',
  '035',
  '037',
  '079',
] as const;

export interface District {
  name: string;
  /** Suffix of the district People's Committee's agency code, `HN-UBND-<code>`. */
  code: string;
  /** The unit part of dossier ids received there, `000.xx.yy`. */
  dossierUnit: string;
  /** The tax office (Chi cục Thuế) that manages taxpayers there. */
  taxOffice: string;
  wards: readonly string[];
  streets: readonly string[];
}

export const DISTRICTS: readonly District[] = [
  {
    name: 'Quận Hoàn Kiếm',
    code: 'HOANKIEM',
    dossierUnit: '000.20.01',
    taxOffice: '10101',
    wards: [
      'Phường Hàng Bạc',
      'Phường Hàng Trống',
      'Phường Tràng Tiền',
      'Phường Lý Thái Tổ',
      'Phường Cửa Đông',
    ],
    streets: ['phố Hàng Bạc', 'phố Tràng Tiền', 'phố Đinh Tiên Hoàng', 'phố Hàng Gai', 'phố Lý Thái Tổ'],
  },
  {
    name: 'Quận Ba Đình',
    code: 'BADINH',
    dossierUnit: '000.20.02',
    taxOffice: '10103',
    wards: ['Phường Điện Biên', 'Phường Kim Mã', 'Phường Ngọc Hà', 'Phường Liễu Giai', 'Phường Cống Vị'],
    streets: ['phố Kim Mã', 'phố Đội Cấn', 'phố Liễu Giai', 'đường Hoàng Hoa Thám', 'phố Nguyễn Thái Học'],
  },
  {
    name: 'Quận Cầu Giấy',
    code: 'CAUGIAY',
    dossierUnit: '000.20.05',
    taxOffice: '10111',
    wards: [
      'Phường Dịch Vọng',
      'Phường Dịch Vọng Hậu',
      'Phường Nghĩa Đô',
      'Phường Quan Hoa',
      'Phường Yên Hòa',
      'Phường Trung Hòa',
    ],
    streets: [
      'đường Xuân Thủy',
      'đường Cầu Giấy',
      'phố Trần Thái Tông',
      'phố Duy Tân',
      'phố Hoàng Quốc Việt',
    ],
  },
  {
    name: 'Quận Tây Hồ',
    code: 'TAYHO',
    dossierUnit: '000.22.28',
    taxOffice: '10109',
    wards: [
      'Phường Quảng An',
      'Phường Nhật Tân',
      'Phường Xuân La',
      'Phường Bưởi',
      'Phường Thụy Khuê',
      'Phường Yên Phụ',
    ],
    streets: ['đường Âu Cơ', 'đường Lạc Long Quân', 'phố Xuân Diệu', 'phố Thụy Khuê', 'phố Tô Ngọc Vân'],
  },
  {
    name: 'Quận Long Biên',
    code: 'LONGBIEN',
    dossierUnit: '000.20.08',
    taxOffice: '10119',
    wards: [
      'Phường Bồ Đề',
      'Phường Ngọc Lâm',
      'Phường Gia Thụy',
      'Phường Đức Giang',
      'Phường Việt Hưng',
      'Phường Thạch Bàn',
    ],
    streets: [
      'phố Nguyễn Văn Cừ',
      'phố Ngọc Lâm',
      'đường Nguyễn Văn Linh',
      'phố Ngô Gia Tự',
      'phố Đức Giang',
    ],
  },
  {
    name: 'Quận Bắc Từ Liêm',
    code: 'BACTULIEM',
    dossierUnit: '000.20.31',
    taxOffice: '10127',
    wards: [
      'Phường Cổ Nhuế 1',
      'Phường Xuân Đỉnh',
      'Phường Phú Diễn',
      'Phường Đông Ngạc',
      'Phường Thượng Cát',
    ],
    streets: ['đường Phạm Văn Đồng', 'phố Trần Cung', 'đường Xuân Đỉnh', 'đường Tân Xuân', 'đường Phú Diễn'],
  },
  {
    name: 'Quận Nam Từ Liêm',
    code: 'NAMTULIEM',
    dossierUnit: '000.20.32',
    taxOffice: '10128',
    wards: [
      'Phường Mỹ Đình 1',
      'Phường Mỹ Đình 2',
      'Phường Mễ Trì',
      'Phường Cầu Diễn',
      'Phường Trung Văn',
      'Phường Xuân Phương',
    ],
    streets: [
      'đường Lê Đức Thọ',
      'đường Nguyễn Hoàng',
      'đường Lê Quang Đạo',
      'đường Hồ Tùng Mậu',
      'đường Tố Hữu',
    ],
  },
  {
    name: 'Quận Hà Đông',
    code: 'HADONG',
    dossierUnit: '000.20.12',
    taxOffice: '10113',
    wards: [
      'Phường Văn Quán',
      'Phường Mộ Lao',
      'Phường Quang Trung',
      'Phường Yết Kiêu',
      'Phường La Khê',
      'Phường Kiến Hưng',
    ],
    streets: ['đường Quang Trung', 'đường Nguyễn Trãi', 'phố Trần Phú', 'đường Lê Trọng Tấn', 'phố Tô Hiệu'],
  },
  {
    name: 'Huyện Thạch Thất',
    code: 'THACHTHAT',
    dossierUnit: '000.21.23',
    taxOffice: '10125',
    wards: ['Thị trấn Liên Quan', 'Xã Thạch Hòa', 'Xã Bình Yên', 'Xã Tân Xã', 'Xã Hạ Bằng', 'Xã Phùng Xá'],
    streets: ['Thôn 3', 'Thôn Bình Sơn', 'Khu công nghệ cao Hòa Lạc', 'Đại lộ Thăng Long', 'Thôn Hòa Lạc'],
  },
  {
    name: 'Huyện Chương Mỹ',
    code: 'CHUONGMY',
    dossierUnit: '000.21.24',
    taxOffice: '10126',
    wards: ['Thị trấn Chúc Sơn', 'Thị trấn Xuân Mai', 'Xã Phụng Châu', 'Xã Thủy Xuân Tiên', 'Xã Đông Sơn'],
    streets: ['Quốc lộ 6', 'đường Hồ Chí Minh', 'Thôn Trung Hòa', 'Khu Tân Bình', 'Thôn Yên Trường'],
  },
];

export const PROVINCE_NAME = 'Thành phố Hà Nội';

export interface Procedure {
  code: string;
  name: string;
  /** Who handles it: `district` for the applicant's district People's Committee, or an agency code. */
  handler: 'district' | string;
  /** The legal time limit, in days. */
  days: number;
  applicant: 'CONG_DAN' | 'DOANH_NGHIEP';
}

export const PROCEDURES = {
  buildingPermit: {
    code: '1.004227',
    name: 'Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ',
    handler: 'district',
    days: 15,
    applicant: 'CONG_DAN',
  },
  soleProprietorship: {
    code: '2.001610',
    name: 'Đăng ký thành lập doanh nghiệp tư nhân',
    handler: 'HN-SKHDT',
    days: 3,
    applicant: 'CONG_DAN',
  },
  singleMemberLlc: {
    code: '2.002038',
    name: 'Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên',
    handler: 'HN-SKHDT',
    days: 3,
    applicant: 'CONG_DAN',
  },
  householdBusiness: {
    code: '1.001612',
    name: 'Đăng ký thành lập hộ kinh doanh',
    handler: 'district',
    days: 3,
    applicant: 'CONG_DAN',
  },
  vehicleTransfer: {
    code: '1.010700',
    name: 'Đăng ký sang tên xe',
    handler: 'HN-PC08',
    days: 2,
    applicant: 'CONG_DAN',
  },
  criminalRecord: {
    code: '2.000488',
    name: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam',
    handler: 'HN-STP',
    days: 10,
    applicant: 'CONG_DAN',
  },
  landCertificate: {
    code: '1.003003',
    name: 'Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu',
    handler: 'HN-STNMT',
    days: 30,
    applicant: 'CONG_DAN',
  },
  enterpriseAmendment: {
    code: '2.001199',
    name: 'Đăng ký thay đổi nội dung đăng ký doanh nghiệp',
    handler: 'HN-SKHDT',
    days: 3,
    applicant: 'DOANH_NGHIEP',
  },
  foodSafety: {
    code: '1.005461',
    name: 'Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm',
    handler: 'HN-SCT',
    days: 20,
    applicant: 'DOANH_NGHIEP',
  },
} as const satisfies Record<string, Procedure>;

/** Procedures a citizen files for themself, with no other record behind them. */
export const CITIZEN_PROCEDURES = [
  PROCEDURES.buildingPermit,
  PROCEDURES.criminalRecord,
  PROCEDURES.landCertificate,
] as const;
/** Procedures an enterprise files. */
export const ENTERPRISE_PROCEDURES = [PROCEDURES.enterpriseAmendment, PROCEDURES.foodSafety] as const;

export const ENTERPRISE_TRADES = [
  'THƯƠNG MẠI DỊCH VỤ',
  'XÂY DỰNG',
  'CÔNG NGHỆ',
  'ĐẦU TƯ',
  'VẬN TẢI',
  'THỰC PHẨM',
  'KIẾN TRÚC NỘI THẤT',
  'GIÁO DỤC',
  'DU LỊCH',
  'CƠ KHÍ',
] as const;
export const ENTERPRISE_BRANDS = [
  'AN PHÁT',
  'HƯNG THỊNH',
  'MINH ANH',
  'PHÚ GIA',
  'THÀNH ĐẠT',
  'HOÀNG LONG',
  'ĐẠI VIỆT',
  'SAO MAI',
  'KIM NGÂN',
  'TÂN PHÁT',
  'HỒNG HÀ',
  'THĂNG LONG',
  'BẮC HÀ',
  'NAM KHÁNH',
  'LONG BIÊN XANH',
] as const;

export interface VehicleModel {
  kind: 'O_TO_CON' | 'O_TO_TAI' | 'MO_TO' | 'XE_GAN_MAY';
  brand: string;
  model: string;
  /** World manufacturer identifier, the first 3 characters of the VIN. */
  wmi: string;
  enginePrefix: string;
}

export const CAR_MODELS: readonly VehicleModel[] = [
  { kind: 'O_TO_CON', brand: 'VinFast', model: 'VF 8', wmi: 'RLL', enginePrefix: 'VFEM' },
  { kind: 'O_TO_CON', brand: 'VinFast', model: 'VF 5', wmi: 'RLL', enginePrefix: 'VFEM' },
  { kind: 'O_TO_CON', brand: 'Toyota', model: 'Vios', wmi: 'RL4', enginePrefix: '2NR' },
  { kind: 'O_TO_CON', brand: 'Toyota', model: 'Corolla Cross', wmi: 'RL4', enginePrefix: '2ZR' },
  { kind: 'O_TO_CON', brand: 'Hyundai', model: 'Accent', wmi: 'RLU', enginePrefix: 'G4LC' },
  { kind: 'O_TO_CON', brand: 'Kia', model: 'Seltos', wmi: 'RNY', enginePrefix: 'G4FL' },
  { kind: 'O_TO_CON', brand: 'Mazda', model: 'CX-5', wmi: 'RP8', enginePrefix: 'PY' },
];

export const TRUCK_MODELS: readonly VehicleModel[] = [
  { kind: 'O_TO_TAI', brand: 'Ford', model: 'Ranger', wmi: 'RL0', enginePrefix: 'YN2S' },
  { kind: 'O_TO_TAI', brand: 'Hyundai', model: 'Mighty N250', wmi: 'RLU', enginePrefix: 'D4CB' },
  { kind: 'O_TO_TAI', brand: 'Isuzu', model: 'QKR 230', wmi: 'RLK', enginePrefix: '4JH1' },
];

export const BIKE_MODELS: readonly VehicleModel[] = [
  { kind: 'MO_TO', brand: 'Honda', model: 'Vision', wmi: 'RLH', enginePrefix: 'JF86E' },
  { kind: 'MO_TO', brand: 'Honda', model: 'Air Blade', wmi: 'RLH', enginePrefix: 'JF84E' },
  { kind: 'MO_TO', brand: 'Honda', model: 'Wave Alpha', wmi: 'RLH', enginePrefix: 'JA39E' },
  { kind: 'MO_TO', brand: 'Yamaha', model: 'Exciter 155', wmi: 'RLC', enginePrefix: 'G3P9E' },
  { kind: 'MO_TO', brand: 'Yamaha', model: 'Janus', wmi: 'RLC', enginePrefix: 'E3X9E' },
  { kind: 'XE_GAN_MAY', brand: 'VinFast', model: 'Evo200', wmi: 'RLL', enginePrefix: 'VFM' },
];

/** Plate provinces of Hà Nội, and the series letters used for cars and for motorbikes. */
export const PLATE_PROVINCES = ['29', '30', '31', '32', '33', '40'] as const;
export const CAR_SERIES = ['A', 'B', 'D', 'E', 'F', 'G', 'H', 'K', 'L'] as const;
export const TRUCK_SERIES = ['C', 'LD'] as const;
export const BIKE_SERIES = ['B1', 'D1', 'E1', 'F1', 'G1', 'H1', 'K1', 'X1', 'Y1', 'Z1', 'MĐ1'] as const;

/** Characters of a VIN: capital letters and digits without I, O and Q. */
export const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';

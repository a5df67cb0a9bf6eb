import { type LienthongEvent } from '../../../schemas/generated/events';
import { citizen, enterprise, eventOf } from './events';

/** The people, enterprise, vehicle and dossier of the cross-agency story. */
export const STORY = {
  /** Hà Nội, male, born 1989: registers the enterprise and represents it. */
  founder: '001089012345',
  /** Hà Nội, female, born 1995: buys the enterprise's car and files a dossier. */
  buyer: '001195004321',
  /** Hà Nội, female, born 1990: becomes the legal representative by an amendment. */
  newRepresentative: '001190007777',
  enterprise: '0101234567',
  enterpriseName: 'Công ty TNHH Liên Thông Xanh',
  plate: '29A-123.45',
  dossier: '000.20.31.H26-240312-0012',
} as const;

/** The map keys the views file the plate and the dossier under. */
export const KEYS = {
  plate: '29A-123%2E45',
  dossier: '000%2E20%2E31%2EH26-240312-0012',
} as const;

const DAY = 86_400_000;

/** The story's instants, in milliseconds since the epoch. */
export const AT = {
  registered: Date.UTC(2024, 0, 15, 2),
  taxpayerRegistered: Date.UTC(2024, 0, 16, 2),
  vehicleRegistered: Date.UTC(2024, 0, 20, 3),
  debtAsOf: Date.UTC(2024, 1, 14, 17),
  transferred: Date.UTC(2024, 1, 24, 2),
  received: Date.UTC(2024, 2, 12, 1, 30),
  due: Date.UTC(2024, 2, 12, 1, 30) + 3 * DAY,
  completed: Date.UTC(2024, 2, 14, 9),
  amended: Date.UTC(2024, 3, 1, 2),
} as const;

/** Source record ids, one per record an agency keeps. */
export const RECORDS = {
  enterprise: 'DN-2024-000123',
  taxpayer: 'MST-0101234567',
  vehicle: 'DKX-2024-555001',
  dossier: 'HS-2024-0012',
} as const;

export const ADDRESS = {
  street: 'Số 12 phố Nguyễn Văn Cừ',
  ward: 'Phường Bồ Đề',
  district: 'Quận Long Biên',
  province: 'Thành phố Hà Nội',
};

/**
 * The story's events, each as its agency's connector publishes it:
 * 1. a citizen registers an enterprise (business registration);
 * 2. the enterprise gets a tax code and then a tax debt (tax);
 * 3. it registers a car and transfers it to another citizen (vehicle);
 * 4. that citizen files a dossier, completed before its due date (dossier).
 * `amended` (the enterprise changes its legal representative) comes after, and is not in `story`.
 */
export function storyEvents() {
  const s = STORY;
  const registered = eventOf(
    'EnterpriseRegistered',
    {
      record: RECORDS.enterprise,
      version: 1,
      occurredAt: AT.registered,
      subjects: { citizenIds: [s.founder], enterpriseCodes: [s.enterprise] },
    },
    {
      enterpriseCode: s.enterprise,
      name: s.enterpriseName,
      legalForm: 'MULTI_MEMBER_LLC',
      address: ADDRESS,
      legalRepresentativeCitizenId: s.founder,
      charterCapital: '5000000000',
      registeredAt: AT.registered,
    },
  );
  const taxpayerRegistered = eventOf(
    'TaxpayerRegistered',
    {
      record: RECORDS.taxpayer,
      version: 1,
      occurredAt: AT.taxpayerRegistered,
      subjects: { enterpriseCodes: [s.enterprise] },
    },
    {
      taxCode: s.enterprise,
      kind: 'ENTERPRISE',
      name: s.enterpriseName,
      citizenId: null,
      enterpriseCode: s.enterprise,
      managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
      registeredAt: AT.taxpayerRegistered,
    },
  );
  const debt = eventOf(
    'TaxDebtUpdated',
    {
      record: RECORDS.taxpayer,
      version: 2,
      occurredAt: AT.debtAsOf,
      subjects: { enterpriseCodes: [s.enterprise] },
    },
    { taxCode: s.enterprise, amount: '125000000', asOf: AT.debtAsOf },
  );
  const vehicleRegistered = eventOf(
    'VehicleRegistered',
    {
      record: RECORDS.vehicle,
      version: 1,
      occurredAt: AT.vehicleRegistered,
      subjects: { enterpriseCodes: [s.enterprise], plates: [s.plate] },
    },
    {
      plate: s.plate,
      frameNumber: 'RLLV8ACA5RV012345',
      engineNumber: 'VFEM24A012345',
      kind: 'CAR',
      brand: 'VinFast',
      model: 'VF 8',
      owner: enterprise(s.enterprise),
      registeredAt: AT.vehicleRegistered,
    },
  );
  const transferred = eventOf(
    'OwnershipTransferred',
    {
      record: RECORDS.vehicle,
      version: 2,
      occurredAt: AT.transferred,
      subjects: { citizenIds: [s.buyer], enterpriseCodes: [s.enterprise], plates: [s.plate] },
    },
    {
      plate: s.plate,
      previousOwner: enterprise(s.enterprise),
      newOwner: citizen(s.buyer),
      transferredAt: AT.transferred,
    },
  );
  const received = eventOf(
    'DossierReceived',
    {
      record: RECORDS.dossier,
      version: 1,
      occurredAt: AT.received,
      subjects: { citizenIds: [s.buyer], dossierIds: [s.dossier] },
    },
    {
      dossierId: s.dossier,
      procedureCode: '1.004227',
      procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
      applicant: citizen(s.buyer),
      receivingAgency: 'HN-TTHCC',
      channel: 'ONLINE_LEVEL_4',
      receivedAt: AT.received,
      dueAt: AT.due,
    },
  );
  const completed = eventOf(
    'DossierStatusChanged',
    {
      record: RECORDS.dossier,
      version: 2,
      occurredAt: AT.completed,
      subjects: { citizenIds: [s.buyer], dossierIds: [s.dossier] },
    },
    {
      dossierId: s.dossier,
      status: 'COMPLETED',
      handlingAgency: 'HN-PC08',
      changedAt: AT.completed,
      note: null,
    },
  );
  const amended = eventOf(
    'EnterpriseAmended',
    {
      record: RECORDS.enterprise,
      version: 2,
      occurredAt: AT.amended,
      // The connector names the representative the record carries: the new one only.
      subjects: { citizenIds: [s.newRepresentative], enterpriseCodes: [s.enterprise] },
    },
    {
      enterpriseCode: s.enterprise,
      amendmentNumber: 1,
      amendedAt: AT.amended,
      name: null,
      legalForm: null,
      address: null,
      legalRepresentativeCitizenId: s.newRepresentative,
      charterCapital: null,
    },
  );
  const story: LienthongEvent[] = [
    registered,
    taxpayerRegistered,
    debt,
    vehicleRegistered,
    transferred,
    received,
    completed,
  ];
  return {
    registered,
    taxpayerRegistered,
    debt,
    vehicleRegistered,
    transferred,
    received,
    completed,
    amended,
    story,
  };
}

import { type LienthongEvent, type TopicEvents } from '../../schemas/generated/events';
import { type TopicName, TOPICS } from '../../schemas/topics';
import { eventIdFor } from '../../connectors/runtime/event-id';

/** The people, enterprise, vehicle and dossier of the cross-agency story. */
export const STORY = {
  founder: '001089012345',
  buyer: '001195004321',
  newRepresentative: '001190007777',
  enterprise: '0108912347',
  plate: '30K-456.78',
  dossier: '000.20.31.H26-261120-0042',
} as const;

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 9, 1, 2, 0, 0);

type Envelope<T extends TopicName> = Omit<TopicEvents[T], 'eventType' | 'payload'>;

export function envelope<T extends TopicName>(
  topic: T,
  record: string,
  version: number,
  occurredAt: number,
  subjects: Partial<LienthongEvent['subjects']>,
): Envelope<T> {
  const agency = TOPICS[topic].owner;
  return {
    eventId: eventIdFor(agency, record, version),
    occurredAt,
    sourceAgency: agency,
    sourceRecordId: record,
    sourceVersion: version,
    subjects: { citizenIds: [], enterpriseCodes: [], plates: [], dossierIds: [], ...subjects },
  } as Envelope<T>;
}

export const citizen = (citizenId: string) => ({ 'vn.hanoi.lienthong.common.CitizenParty': { citizenId } });
export const enterprise = (enterpriseCode: string) => ({
  'vn.hanoi.lienthong.common.EnterpriseParty': { enterpriseCode },
});

/** One event of the story with the topic it goes to and its key. */
export interface StoryEvent {
  topic: TopicName;
  key: string;
  event: LienthongEvent;
}

/**
 * The story, in the order it happens:
 * 1. a citizen registers an enterprise;
 * 2. the enterprise gets a tax debt;
 * 3. it buys a vehicle and transfers it to another citizen;
 * 4. the buyer files a dossier, which is completed before its due date.
 * Then the enterprise changes its legal representative.
 */
export function storyEvents(): StoryEvent[] {
  const s = STORY;
  const br = 'business-registration' as const;
  return [
    {
      topic: br,
      key: s.enterprise,
      event: {
        ...envelope(br, 'DN-2026-000123', 1, T0, {
          citizenIds: [s.founder],
          enterpriseCodes: [s.enterprise],
        }),
        eventType: 'EnterpriseRegistered',
        payload: {
          'vn.hanoi.lienthong.business_registration.EnterpriseRegistered': {
            enterpriseCode: s.enterprise,
            name: 'Công ty TNHH Liên Thông Xanh',
            legalForm: 'MULTI_MEMBER_LLC',
            address: {
              street: 'Số 12 phố Nguyễn Văn Cừ',
              ward: 'Phường Bồ Đề',
              district: null,
              province: 'Thành phố Hà Nội',
            },
            legalRepresentativeCitizenId: s.founder,
            charterCapital: '5000000000',
            registeredAt: T0,
          },
        },
      },
    },
    {
      topic: 'tax',
      key: s.enterprise,
      event: {
        ...envelope('tax', 'MST-0108912347', 1, T0 + DAY, { enterpriseCodes: [s.enterprise] }),
        eventType: 'TaxpayerRegistered',
        payload: {
          'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
            taxCode: s.enterprise,
            kind: 'ENTERPRISE',
            name: 'Công ty TNHH Liên Thông Xanh',
            citizenId: null,
            enterpriseCode: s.enterprise,
            managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
            registeredAt: T0 + DAY,
          },
        },
      },
    },
    {
      topic: 'tax',
      key: s.enterprise,
      event: {
        ...envelope('tax', 'MST-0108912347', 2, T0 + 30 * DAY, { enterpriseCodes: [s.enterprise] }),
        eventType: 'TaxDebtUpdated',
        payload: {
          'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
            taxCode: s.enterprise,
            amount: '125000000',
            asOf: T0 + 30 * DAY,
          },
        },
      },
    },
    {
      topic: 'vehicle',
      key: s.plate,
      event: {
        ...envelope('vehicle', 'DKX-2026-555001', 1, T0 + 5 * DAY, {
          enterpriseCodes: [s.enterprise],
          plates: [s.plate],
        }),
        eventType: 'VehicleRegistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleRegistered': {
            plate: s.plate,
            frameNumber: 'RLHRE7890PY123456',
            engineNumber: 'K20Z9123456',
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 8',
            owner: enterprise(s.enterprise),
            registeredAt: T0 + 5 * DAY,
          },
        },
      },
    },
    {
      topic: 'vehicle',
      key: s.plate,
      event: {
        ...envelope('vehicle', 'DKX-2026-555001', 2, T0 + 40 * DAY, {
          citizenIds: [s.buyer],
          enterpriseCodes: [s.enterprise],
          plates: [s.plate],
        }),
        eventType: 'OwnershipTransferred',
        payload: {
          'vn.hanoi.lienthong.vehicle.OwnershipTransferred': {
            plate: s.plate,
            previousOwner: enterprise(s.enterprise),
            newOwner: citizen(s.buyer),
            transferredAt: T0 + 40 * DAY,
          },
        },
      },
    },
    {
      topic: 'dossier',
      key: s.dossier,
      event: {
        ...envelope('dossier', 'HS-2026-0042', 1, T0 + 41 * DAY, {
          citizenIds: [s.buyer],
          dossierIds: [s.dossier],
        }),
        eventType: 'DossierReceived',
        payload: {
          'vn.hanoi.lienthong.dossier.DossierReceived': {
            dossierId: s.dossier,
            procedureCode: '1.004227',
            procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
            applicant: citizen(s.buyer),
            receivingAgency: 'HN-UBND-LONGBIEN',
            channel: 'ONLINE_LEVEL_4',
            receivedAt: T0 + 41 * DAY,
            dueAt: T0 + 44 * DAY,
          },
        },
      },
    },
    {
      topic: 'dossier',
      key: s.dossier,
      event: {
        ...envelope('dossier', 'HS-2026-0042', 2, T0 + 43 * DAY, {
          citizenIds: [s.buyer],
          dossierIds: [s.dossier],
        }),
        eventType: 'DossierStatusChanged',
        payload: {
          'vn.hanoi.lienthong.dossier.DossierStatusChanged': {
            dossierId: s.dossier,
            status: 'COMPLETED',
            handlingAgency: 'HN-PC08',
            changedAt: T0 + 43 * DAY,
            note: null,
          },
        },
      },
    },
    {
      topic: br,
      key: s.enterprise,
      event: {
        ...envelope(br, 'DN-2026-000123', 2, T0 + 50 * DAY, {
          citizenIds: [s.newRepresentative],
          enterpriseCodes: [s.enterprise],
        }),
        eventType: 'EnterpriseAmended',
        payload: {
          'vn.hanoi.lienthong.business_registration.EnterpriseAmended': {
            enterpriseCode: s.enterprise,
            amendmentNumber: 1,
            amendedAt: T0 + 50 * DAY,
            name: null,
            legalForm: null,
            address: null,
            legalRepresentativeCitizenId: s.newRepresentative,
            charterCapital: null,
          },
        },
      },
    },
  ];
}

import { citizen, DAY, enterprise, envelope, STORY, type StoryEvent, storyEvents, T0 } from './story';

/**
 * Dossiers opened after the story, one per situation the lookup API must tell apart. The story's
 * own dossier (`STORY.dossier`) is closed: completed by HN-PC08.
 */
export const OPEN_DOSSIERS = {
  /** The buyer transfers the vehicle into their name; the traffic police handle it. */
  transfer: {
    id: '000.20.31.H26-261201-0101',
    procedure: '1.010700',
    agency: 'HN-PC08',
    applicant: STORY.buyer,
  },
  /** The enterprise amends its registration at the business registration office. */
  amendment: {
    id: '000.20.31.H26-261201-0102',
    procedure: '2.001199',
    agency: 'HN-SKHDT',
    applicant: STORY.enterprise,
  },
  /** The founder registers a household business at the Long Biên district committee. */
  household: {
    id: '000.20.31.H26-261201-0103',
    procedure: '1.001612',
    agency: 'HN-UBND-LONGBIEN',
    applicant: STORY.founder,
  },
  /** The founder registers land use; the natural resources department handles it. */
  land: {
    id: '000.20.31.H26-261201-0104',
    procedure: '1.003003',
    agency: 'HN-STNMT',
    applicant: STORY.founder,
  },
  /** The enterprise asks for a food-safety certificate. */
  foodSafety: {
    id: '000.20.31.H26-261201-0105',
    procedure: '1.005461',
    agency: 'HN-SCT',
    applicant: STORY.enterprise,
  },
  /** The new representative asks for a criminal record certificate. */
  criminalRecord: {
    id: '000.20.31.H26-261201-0106',
    procedure: '2.000488',
    agency: 'HN-STP',
    applicant: STORY.newRepresentative,
  },
  /** The founder founds a sole proprietorship. */
  soleProprietorship: {
    id: '000.20.31.H26-261201-0107',
    procedure: '2.001610',
    agency: 'HN-SKHDT',
    applicant: STORY.founder,
  },
  /** The new representative founds a one-member LLC. */
  singleMemberLlc: {
    id: '000.20.31.H26-261201-0108',
    procedure: '2.002038',
    agency: 'HN-SKHDT',
    applicant: STORY.newRepresentative,
  },
  /** The buyer asks for a building permit at the district. */
  buildingPermit: {
    id: '000.20.31.H26-261201-0109',
    procedure: '1.004227',
    agency: 'HN-UBND-LONGBIEN',
    applicant: STORY.buyer,
  },
  /** A procedure that no policy grants. */
  unknownProcedure: {
    id: '000.20.31.H26-261201-0110',
    procedure: '9.999999',
    agency: 'HN-PC08',
    applicant: STORY.buyer,
  },
} as const;

export type OpenDossier = (typeof OPEN_DOSSIERS)[keyof typeof OPEN_DOSSIERS];

/** A dossier id the bus has never heard of. */
export const MISSING_DOSSIER = '000.20.31.H26-261201-9999';

/** The story, then the reception of every open dossier. */
export function lookupStoryEvents(): StoryEvent[] {
  const opened = Object.values(OPEN_DOSSIERS).map((d, i): StoryEvent => {
    const applicant = /^\d{12}$/.test(d.applicant) ? citizen(d.applicant) : enterprise(d.applicant);
    const at = T0 + (60 + i) * DAY;
    return {
      topic: 'dossier',
      key: d.id,
      event: {
        ...envelope('dossier', `HS-LOOKUP-${i}`, 1, at, {
          ...('vn.hanoi.lienthong.common.CitizenParty' in applicant
            ? { citizenIds: [d.applicant] }
            : { enterpriseCodes: [d.applicant] }),
          dossierIds: [d.id],
        }),
        eventType: 'DossierReceived',
        payload: {
          'vn.hanoi.lienthong.dossier.DossierReceived': {
            dossierId: d.id,
            procedureCode: d.procedure,
            procedureName: `Thủ tục ${d.procedure}`,
            applicant,
            receivingAgency: d.agency,
            channel: 'DESK',
            receivedAt: at,
            dueAt: at + 10 * DAY,
          },
        },
      },
    };
  });
  // The founder's personal tax code, with a debt, so that citizens' tax sections are filled.
  const personalTax = '8012345678';
  const tax: StoryEvent[] = [
    {
      topic: 'tax',
      key: personalTax,
      event: {
        ...envelope('tax', `MST-${personalTax}`, 1, T0 + 2 * DAY, { citizenIds: [STORY.founder] }),
        eventType: 'TaxpayerRegistered',
        payload: {
          'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
            taxCode: personalTax,
            kind: 'INDIVIDUAL',
            name: 'Nguyễn Văn An',
            citizenId: STORY.founder,
            enterpriseCode: null,
            managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
            registeredAt: T0 + 2 * DAY,
          },
        },
      },
    },
    {
      topic: 'tax',
      key: personalTax,
      event: {
        ...envelope('tax', `MST-${personalTax}`, 2, T0 + 31 * DAY, { citizenIds: [STORY.founder] }),
        eventType: 'TaxDebtUpdated',
        payload: {
          'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
            taxCode: personalTax,
            amount: '3500000',
            asOf: T0 + 31 * DAY,
          },
        },
      },
    },
  ];
  return [...storyEvents(), ...tax, ...opened];
}

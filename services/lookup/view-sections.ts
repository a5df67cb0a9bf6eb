import { type ViewName } from '../sharing/projection';

/**
 * How a view document is laid out, as the sharing service's projections write it: each top-level
 * section is either `single` (one object, such as `registration`) or a `map` of entries keyed by an
 * identifier (`vehicles.<plate>`), and lists the fields its sections may hold. The field policies
 * are checked against this at startup, so a policy naming a field that no view holds is refused
 * instead of silently granting nothing.
 */
export interface SectionShape {
  kind: 'single' | 'map';
  fields: readonly string[];
  /**
   * Fields the projection derives from the entries of another map of the document, by field: a
   * served value depends on those entries' events too.
   */
  derived?: Readonly<Record<string, string>>;
}

const DOSSIER_ENTRY = [
  'dossierId',
  'procedureCode',
  'procedureName',
  'receivingAgency',
  'handlingAgency',
  'receivedAt',
  'dueAt',
  'status',
  'statusChangedAt',
  'open',
] as const;
const TAX_ENTRY = [
  'taxCode',
  'kind',
  'name',
  'managingTaxOffice',
  'registeredAt',
  'status',
  'statusEffectiveAt',
  'statusReason',
  'debt',
  'debtAsOf',
] as const;
const VEHICLE_ENTRY = [
  'plate',
  'kind',
  'brand',
  'model',
  'ownership',
  'status',
  'since',
  'until',
  'deregisteredAt',
] as const;

export const VIEW_SECTIONS: Readonly<Record<ViewName, Readonly<Record<string, SectionShape>>>> = {
  citizens: {
    identity: { kind: 'single', fields: ['citizenId', 'birthProvinceCode', 'sex', 'birthYear'] },
    tax: { kind: 'map', fields: TAX_ENTRY },
    enterprises: { kind: 'map', fields: ['enterpriseCode', 'name', 'role', 'status'] },
    vehicles: { kind: 'map', fields: VEHICLE_ENTRY },
    dossiers: { kind: 'map', fields: DOSSIER_ENTRY },
  },
  enterprises: {
    registration: {
      kind: 'single',
      fields: [
        'enterpriseCode',
        'name',
        'legalForm',
        'address',
        'legalRepresentativeCitizenId',
        'previousLegalRepresentativeCitizenId',
        'legalRepresentativeChangedBy',
        'charterCapital',
        'registeredAt',
        'amendmentNumber',
        'amendedAt',
        'status',
        'statusEffectiveAt',
        'statusReason',
      ],
    },
    tax: { kind: 'map', fields: TAX_ENTRY },
    vehicles: { kind: 'map', fields: VEHICLE_ENTRY },
    dossiers: { kind: 'map', fields: DOSSIER_ENTRY },
  },
  vehicles: {
    registration: {
      kind: 'single',
      fields: [
        'plate',
        'frameNumber',
        'engineNumber',
        'kind',
        'brand',
        'model',
        'owner',
        'registeredAt',
        'status',
        'deregisteredAt',
        'deregistrationReason',
      ],
    },
    history: { kind: 'map', fields: ['event', 'at', 'owner', 'previousOwner', 'reason'] },
  },
  dossiers: {
    dossier: {
      kind: 'single',
      fields: [
        'dossierId',
        'procedureCode',
        'procedureName',
        'applicant',
        'receivingAgency',
        'handlingAgency',
        'channel',
        'receivedAt',
        'dueAt',
        'status',
        'open',
        'closedAt',
        'onTime',
      ],
      // `withOnTime` judges a closed dossier from its whole timeline.
      derived: { onTime: 'timeline' },
    },
    timeline: { kind: 'map', fields: ['status', 'at', 'agency', 'note'] },
  },
};

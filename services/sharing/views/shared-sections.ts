import {
  type BusinessRegistrationEvent,
  type DossierEvent,
  EVENT_PAYLOAD_BRANCHES,
  type LienthongEvent,
  type TaxEvent,
  type VehicleEvent,
} from '../../../schemas/generated/events';
import { payloadOf } from '../../../schemas/envelope';
import {
  mergeSection,
  partyOf,
  readSection,
  sectionKey,
  type SourcedEvent,
  type ViewDoc,
  type ViewName,
  type ViewReader,
} from '../projection';

/** Every event type of every contract: each concerns a citizen or an enterprise. */
export const ALL_EVENT_TYPES: ReadonlySet<LienthongEvent['eventType']> = new Set(
  Object.values(EVENT_PAYLOAD_BRANCHES).flatMap(
    (branches) => Object.keys(branches) as LienthongEvent['eventType'][],
  ),
);

/** Statuses after which a dossier is no longer being handled. */
export const CLOSED_DOSSIER_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'REJECTED', 'RETURNED']);

/** Avro's timestamp-millis as a BSON date. */
export function at(epochMs: number): Date {
  return new Date(epochMs);
}

/** A dossier as the applicant's citizen or enterprise document lists it. */
export function dossierEntry(event: DossierEvent): Record<string, unknown> {
  if (event.eventType === 'DossierReceived') {
    const p = payloadOf(event);
    return {
      dossierId: p.dossierId,
      procedureCode: p.procedureCode,
      procedureName: p.procedureName,
      receivingAgency: p.receivingAgency,
      receivedAt: at(p.receivedAt),
      dueAt: at(p.dueAt),
      status: 'RECEIVED',
      open: true,
    };
  }
  const p = payloadOf(event);
  return {
    dossierId: p.dossierId,
    status: p.status,
    handlingAgency: p.handlingAgency,
    statusChangedAt: at(p.changedAt),
    open: !CLOSED_DOSSIER_STATUSES.has(p.status),
  };
}

/** A tax code's registration, status and debt, as a citizen or an enterprise document holds it. */
export function taxEntry(event: TaxEvent): Record<string, unknown> {
  switch (event.eventType) {
    case 'TaxpayerRegistered': {
      const p = payloadOf(event);
      return {
        taxCode: p.taxCode,
        kind: p.kind,
        name: p.name,
        managingTaxOffice: p.managingTaxOffice,
        registeredAt: at(p.registeredAt),
        status: 'ACTIVE',
      };
    }
    case 'TaxpayerStatusChanged': {
      const p = payloadOf(event);
      return {
        taxCode: p.taxCode,
        status: p.status,
        statusEffectiveAt: at(p.effectiveAt),
        statusReason: p.reason,
      };
    }
    case 'TaxDebtUpdated': {
      const p = payloadOf(event);
      // A decimal string of VND: FerretDB has no Decimal128, and a double would round large debts.
      return { taxCode: p.taxCode, debt: p.amount, debtAsOf: at(p.asOf) };
    }
  }
}

export interface Representatives {
  /** The legal representative once the event is applied. */
  current: string | undefined;
  /** The one the event replaced, when it changed the representative. */
  previous: string | undefined;
  all: string[];
}

/**
 * Who represents the enterprise at law after a business-registration event, and whom it replaced.
 * Status changes name nobody, and an amendment names a representative only when it changes one,
 * so the rest comes from the `enterprises` view. A late version (older than the registration it
 * would change, see `mergeSection`) changes nobody: the one it names, if replaced since, is former. When the view already holds this very event (a
 * replay after a crash), the view's own record of the change is used, so that a replay tells
 * the same citizens as the first run.
 */
export function businessRepresentatives(event: BusinessRegistrationEvent, read: ViewReader): Representatives {
  const payload = payloadOf(event);
  const registration = readSection(read.get('enterprises', payload.enterpriseCode), ['registration']);
  const inView = registration?.legalRepresentativeCitizenId as string | undefined;
  let current: string | undefined;
  let previous: string | undefined;
  const named =
    'legalRepresentativeCitizenId' in payload
      ? (payload.legalRepresentativeCitizenId ?? undefined)
      : undefined;
  const late =
    registration !== undefined &&
    registration.source.sourceRecordId === event.sourceRecordId &&
    registration.source.agency === event.sourceAgency &&
    event.sourceVersion < registration.source.sourceVersion;
  if (late) {
    // A version resent after a newer one was applied: the newer one decided who represents the
    // enterprise now, and the one this event names, if another, was replaced since.
    current = inView;
    previous = named !== undefined && named !== inView ? named : undefined;
  } else if (registration?.source.eventId === event.eventId) {
    current = inView;
    // Only the event that changed the representative may name the one before.
    previous =
      registration.legalRepresentativeChangedBy === event.eventId
        ? (registration.previousLegalRepresentativeCitizenId as string | undefined)
        : undefined;
  } else {
    current = named ?? inView;
    previous = named !== undefined && inView !== undefined && inView !== named ? inView : undefined;
  }
  const all = [current, previous].filter((id): id is string => id !== undefined);
  return { current, previous, all: [...new Set(all)] };
}

/**
 * A vehicle as its owner's document lists it: the vehicle's details, whether `owner` owns it now
 * or did, and whether it is still registered. A transfer carries no details, so they come from
 * the `vehicles` view.
 */
export function vehicleEntryFor(
  event: VehicleEvent,
  owner: { view: ViewName; id: string },
  read: ViewReader,
): Record<string, unknown> {
  switch (event.eventType) {
    case 'VehicleRegistered': {
      const p = payloadOf(event);
      return {
        plate: p.plate,
        kind: p.kind,
        brand: p.brand,
        model: p.model,
        ownership: 'CURRENT',
        status: 'REGISTERED',
        since: at(p.registeredAt),
      };
    }
    case 'OwnershipTransferred': {
      const p = payloadOf(event);
      const vehicle = readSection(read.get('vehicles', p.plate), ['registration']);
      const next = partyOf(p.newOwner);
      const isNew = next.view === owner.view && next.id === owner.id;
      return {
        plate: p.plate,
        ...(vehicle ? { kind: vehicle.kind, brand: vehicle.brand, model: vehicle.model } : {}),
        ownership: isNew ? 'CURRENT' : 'FORMER',
        status: 'REGISTERED',
        // A buyer who owned the vehicle before must not keep the end of that earlier ownership.
        ...(isNew ? { since: at(p.transferredAt), until: null } : { until: at(p.transferredAt) }),
      };
    }
    case 'VehicleDeregistered': {
      const p = payloadOf(event);
      return { plate: p.plate, status: 'DEREGISTERED', deregisteredAt: at(p.deregisteredAt) };
    }
  }
}

/**
 * The sections a citizen's and an enterprise's documents share: the dossiers the party filed, its
 * tax codes and its vehicles. Undefined for a business-registration event, which each projection
 * applies its own way.
 */
export function withPartySection(
  doc: ViewDoc,
  sourced: SourcedEvent,
  owner: { view: ViewName; id: string },
  read: ViewReader,
): ViewDoc | undefined {
  const { event } = sourced;
  switch (event.eventType) {
    case 'DossierReceived':
    case 'DossierStatusChanged':
      return mergeSection(
        doc,
        ['dossiers', sectionKey(payloadOf(event).dossierId)],
        dossierEntry(event),
        sourced,
      );
    case 'TaxpayerRegistered':
    case 'TaxpayerStatusChanged':
    case 'TaxDebtUpdated':
      return mergeSection(doc, ['tax', sectionKey(payloadOf(event).taxCode)], taxEntry(event), sourced);
    case 'VehicleRegistered':
    case 'OwnershipTransferred':
    case 'VehicleDeregistered':
      return mergeSection(
        doc,
        ['vehicles', sectionKey(payloadOf(event).plate)],
        vehicleEntryFor(event, owner, read),
        sourced,
      );
    default:
      return undefined;
  }
}

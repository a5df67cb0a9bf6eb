import { type ViewDoc, type ViewName } from '../sharing/projection';

/**
 * Why a lookup was refused. Each is a stable code: it is answered in the problem body and kept in
 * the audit record, and auditors count denials by it.
 */
export const DENIALS = {
  DOSSIER_NOT_FOUND: 'DOSSIER_NOT_FOUND',
  DOSSIER_CLOSED: 'DOSSIER_CLOSED',
  DOSSIER_OTHER_AGENCY: 'DOSSIER_OTHER_AGENCY',
  DOSSIER_OTHER_SUBJECT: 'DOSSIER_OTHER_SUBJECT',
  NO_POLICY: 'NO_POLICY',
  VIEW_NOT_IN_POLICY: 'VIEW_NOT_IN_POLICY',
  ROLE_NOT_ALLOWED: 'ROLE_NOT_ALLOWED',
  NOT_OWN_RECORD: 'NOT_OWN_RECORD',
} as const;
export type Denial = (typeof DENIALS)[keyof typeof DENIALS];

/** The dossier an officer handles, as the `dossiers` view holds it. */
export interface BoundDossier {
  dossierId: string;
  procedureCode: string;
  applicant: { citizenId: string } | { enterpriseCode: string };
  handlingAgency: string;
}

export type Binding = { ok: true; dossier: BoundDossier } | { ok: false; denial: Denial; detail: string };

/**
 * Whether an officer of `agency` may work under the dossier `doc`: it exists, it is handled by the
 * officer's agency now, and it is open. The agency is checked before the state, so a refusal tells
 * an officer the state only of their own agency's dossiers. A dossier passed on to another agency binds that agency's
 * officers, not the receiving desk's.
 */
export function bindDossier(doc: ViewDoc | null, agency: string): Binding {
  const dossier = doc?.dossier as Record<string, unknown> | undefined;
  if (!doc || !dossier || typeof dossier.procedureCode !== 'string') {
    // A dossier known only by a status change, without its reception, has no procedure: not usable.
    return { ok: false, denial: DENIALS.DOSSIER_NOT_FOUND, detail: 'The dossier is not known to the bus' };
  }
  // The agency first: another agency's officer learns nothing of the dossier's state from the code.
  if (dossier.handlingAgency !== agency) {
    return {
      ok: false,
      denial: DENIALS.DOSSIER_OTHER_AGENCY,
      detail: "The dossier is handled by another agency than the officer's",
    };
  }
  if (dossier.open !== true) {
    return { ok: false, denial: DENIALS.DOSSIER_CLOSED, detail: 'The dossier is closed' };
  }
  return {
    ok: true,
    dossier: {
      dossierId: doc._id,
      procedureCode: dossier.procedureCode,
      applicant: dossier.applicant as BoundDossier['applicant'],
      handlingAgency: agency,
    },
  };
}

/**
 * Reads one view document by id, with only the `fields` paths of it: the third read of a lookup,
 * made only for a vehicle that an enterprise owns or owned (see {@link concernsSubject}).
 */
export type DocLoader = (view: ViewName, id: string, fields: readonly string[]) => Promise<ViewDoc | null>;

/** What the binding reads of the dossier the officer handles. */
export const BINDING_FIELDS = [
  'dossier.procedureCode',
  'dossier.handlingAgency',
  'dossier.open',
  'dossier.applicant',
] as const;

/** What the subject check reads of each document: the links, never the data answered. */
const LINKS = {
  /** A citizen's enterprises, each with the citizen's role in it. */
  represented: ['enterprises'],
  /** Who represents an enterprise at law now. */
  representative: ['registration.legalRepresentativeCitizenId'],
  /** A vehicle's owners, now and in its history. */
  owners: ['registration.owner', 'history'],
  /** Whose a dossier is. */
  applicant: ['dossier.applicant'],
} as const;

/**
 * The paths of the subject's document that {@link concernsSubject} needs, read in the same read
 * as the sections the policy returns: the links, and nothing when the dossier names the subject.
 */
export function subjectLinks(dossier: BoundDossier, view: ViewName, id: string): readonly string[] {
  const applicant = dossier.applicant;
  switch (view) {
    case 'citizens':
      return 'citizenId' in applicant && applicant.citizenId === id ? [] : LINKS.represented;
    case 'enterprises':
      return 'enterpriseCode' in applicant && applicant.enterpriseCode === id ? [] : LINKS.representative;
    case 'vehicles':
      return LINKS.owners;
    case 'dossiers':
      return id === dossier.dossierId ? [] : LINKS.applicant;
  }
}

/**
 * Whether the dossier concerns the subject looked up, whose document `subject` was read with at
 * least the {@link subjectLinks} paths (null: the bus does not hold it):
 * - a citizen: the applicant, or the legal representative of the applicant enterprise;
 * - an enterprise: the applicant, or one the applicant citizen represents now;
 * - a vehicle: owned now or before by the applicant, or by an enterprise the applicant represents;
 * - a dossier: this one, or another of the same applicant.
 *
 * Called once the binding is decided. The subject's document is read once, with its links and the
 * sections the policy returns, whether the answer is then allowed or refused: a refusal does the
 * same reads for an existing subject as for a missing one, but for a vehicle an enterprise owns or
 * owned, whose check `load`s the applicant citizen's enterprises (a third read). The refusal floor
 * (`REFUSAL_FLOOR_MS`) hides that difference, and the one between reading a document and missing it.
 * Who represents an enterprise now is read from the enterprise's registration (for an enterprise
 * looked up) or the citizen's `enterprises` section (for a citizen looked up, or a vehicle's
 * enterprise owner): both are written from the same business-registration events.
 *
 * A subject that the bus does not hold concerns the dossier only when the dossier names it itself
 * (the applicant, or the dossier), so a refusal never tells whether another subject exists.
 */
export async function concernsSubject(
  dossier: BoundDossier,
  view: ViewName,
  id: string,
  subject: ViewDoc | null,
  load: DocLoader,
): Promise<boolean> {
  const applicant = dossier.applicant;
  const applicantCitizen = 'citizenId' in applicant ? applicant.citizenId : undefined;
  const applicantEnterprise = 'enterpriseCode' in applicant ? applicant.enterpriseCode : undefined;
  switch (view) {
    case 'citizens':
      if (id === applicantCitizen) return true;
      return applicantEnterprise !== undefined && representedIn(subject).has(applicantEnterprise);
    case 'enterprises': {
      if (id === applicantEnterprise) return true;
      const registration = subject?.registration as Record<string, unknown> | undefined;
      return (
        applicantCitizen !== undefined && registration?.legalRepresentativeCitizenId === applicantCitizen
      );
    }
    case 'vehicles': {
      const owners = ownersOf(subject);
      const owned = owners.some(
        (owner) =>
          ('citizenId' in owner && applicantCitizen !== undefined && owner.citizenId === applicantCitizen) ||
          ('enterpriseCode' in owner && owner.enterpriseCode === applicantEnterprise),
      );
      if (owned) return true;
      const enterprises = owners.flatMap((o) => ('enterpriseCode' in o ? [o.enterpriseCode] : []));
      if (applicantCitizen === undefined || enterprises.length === 0) return false;
      const represented = representedIn(await load('citizens', applicantCitizen, LINKS.represented));
      return enterprises.some((code) => represented.has(code));
    }
    case 'dossiers': {
      if (id === dossier.dossierId) return true;
      return sameParty((subject?.dossier as Record<string, unknown> | undefined)?.applicant, applicant);
    }
  }
}

type Party = { citizenId: string } | { enterpriseCode: string };

/** The enterprises a citizen's document names them the legal representative of, now. */
function representedIn(citizen: ViewDoc | null): Set<string> {
  const entries = Object.values((citizen?.enterprises ?? {}) as Record<string, Record<string, unknown>>);
  return new Set(
    entries
      .filter((e) => e.role === 'LEGAL_REPRESENTATIVE' && typeof e.enterpriseCode === 'string')
      .map((e) => e.enterpriseCode as string),
  );
}

/** Everyone the vehicle's registration and history name as an owner, now or before. */
function ownersOf(vehicle: ViewDoc | null): Party[] {
  if (!vehicle) return [];
  const owners: unknown[] = [(vehicle.registration as Record<string, unknown> | undefined)?.owner];
  const history = vehicle.history as Record<string, Record<string, unknown>> | undefined;
  for (const entry of Object.values(history ?? {})) owners.push(entry.owner, entry.previousOwner);
  return owners.filter(
    (o): o is Party =>
      typeof o === 'object' &&
      o !== null &&
      (typeof (o as Record<string, unknown>).citizenId === 'string' ||
        typeof (o as Record<string, unknown>).enterpriseCode === 'string'),
  );
}

function sameParty(a: unknown, b: Party): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const x = a as Record<string, unknown>;
  return 'citizenId' in b ? x.citizenId === b.citizenId : x.enterpriseCode === b.enterpriseCode;
}

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
 * Reads one view document by id, with only the `fields` paths of it; the only store access the
 * subject check needs.
 */
export type DocLoader = (view: ViewName, id: string, fields: readonly string[]) => Promise<ViewDoc | null>;

/** What the subject check reads of each document: the links, never the data answered. */
const LINKS = {
  /** A citizen's enterprises, each with the citizen's role in it. */
  represented: ['enterprises'],
  /** A vehicle's owners, now and in its history. */
  owners: ['registration.owner', 'history'],
  /** Whose a dossier is. */
  applicant: ['dossier.applicant'],
} as const;

/**
 * Whether the dossier concerns the subject looked up:
 * - a citizen: the applicant, or the legal representative of the applicant enterprise;
 * - an enterprise: the applicant, or one the applicant citizen represents now;
 * - a vehicle: owned now or before by the applicant, or by an enterprise the applicant represents;
 * - a dossier: this one, or another of the same applicant.
 *
 * Called once the binding is decided, and before the subject's document is read: it reads only
 * links (who represents whom, who owned what, whose a dossier is), at most two documents at once
 * in one round trip, and the same ones whether or not the subject exists. So a refusal costs the
 * same for an existing subject as for a missing one, and its timing does not tell which it was.
 * Who represents an enterprise now is read from one place, the citizen's `enterprises` section,
 * so that no check waits for another (a vehicle's enterprise owners are known only once it is read).
 *
 * A subject that the bus does not hold concerns the dossier only when the dossier names it itself
 * (the applicant, or the dossier), so a refusal never tells whether another subject exists.
 */
export async function concernsSubject(
  dossier: BoundDossier,
  view: ViewName,
  id: string,
  load: DocLoader,
): Promise<boolean> {
  const applicant = dossier.applicant;
  const applicantCitizen = 'citizenId' in applicant ? applicant.citizenId : undefined;
  const applicantEnterprise = 'enterpriseCode' in applicant ? applicant.enterpriseCode : undefined;
  const representedBy = async (citizenId: string | undefined): Promise<Set<string>> =>
    citizenId === undefined ? new Set() : representedIn(await load('citizens', citizenId, LINKS.represented));
  switch (view) {
    case 'citizens':
      if (id === applicantCitizen) return true;
      return applicantEnterprise !== undefined && (await representedBy(id)).has(applicantEnterprise);
    case 'enterprises':
      if (id === applicantEnterprise) return true;
      return (await representedBy(applicantCitizen)).has(id);
    case 'vehicles': {
      const [vehicle, represented] = await Promise.all([
        load('vehicles', id, LINKS.owners),
        representedBy(applicantCitizen),
      ]);
      return ownersOf(vehicle).some(
        (owner) =>
          ('citizenId' in owner && applicantCitizen !== undefined && owner.citizenId === applicantCitizen) ||
          ('enterpriseCode' in owner &&
            (owner.enterpriseCode === applicantEnterprise || represented.has(owner.enterpriseCode))),
      );
    }
    case 'dossiers': {
      if (id === dossier.dossierId) return true;
      const other = await load('dossiers', id, LINKS.applicant);
      return sameParty((other?.dossier as Record<string, unknown> | undefined)?.applicant, applicant);
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

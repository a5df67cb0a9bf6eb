/**
 * In what capacity an answer showed a citizen:
 * - `subject`: the citizen looked up, or whose own document was read;
 * - `owner` / `previous-owner`: the owner of a vehicle, now or in its history, or the one it
 *   was transferred from;
 * - `legal-representative` / `previous-legal-representative`: who represents an enterprise at law;
 * - `applicant`: who filed a dossier;
 * - `named`: any other place that holds the citizen's id (a source event's subjects, a tax
 *   registration), as lineage shows them.
 */
export const EXPOSURE_ROLES = [
  'subject',
  'owner',
  'previous-owner',
  'legal-representative',
  'previous-legal-representative',
  'applicant',
  'named',
] as const;
export type ExposureRole = (typeof EXPOSURE_ROLES)[number];

/** One citizen an answer showed, and how. */
export interface Exposure {
  /** The full identity number, even where the answer masked it: the trail is for auditors. */
  citizenId: string;
  as: ExposureRole;
  /** Where the answer held it, as `section.field` paths with `[]` for array items, sorted. */
  fields: string[];
  /** The least protective mask it was shown through: `clear`, or `last4` when always masked. */
  mask: string;
}

const CCCD = /^\d{12}$/;

/** The role a key names, where it holds or wraps a citizen id. */
const ROLE_OF_KEY: Readonly<Record<string, ExposureRole>> = {
  owner: 'owner',
  newOwner: 'owner',
  previousOwner: 'previous-owner',
  legalRepresentativeCitizenId: 'legal-representative',
  previousLegalRepresentativeCitizenId: 'previous-legal-representative',
  applicant: 'applicant',
  identity: 'subject',
};

/** A key that holds citizen ids: `citizenId`, `…CitizenId`, or a `citizenIds` list. */
function holdsCitizenIds(key: string): boolean {
  return key === 'citizenId' || key === 'citizenIds' || key.endsWith('CitizenId');
}

/** The role of the id at `keys`: the nearest enclosing key that names one. */
function roleOf(keys: readonly string[]): ExposureRole {
  for (let i = keys.length - 1; i >= 0; i -= 1) {
    const role = ROLE_OF_KEY[keys[i] as string];
    if (role) return role;
  }
  return 'named';
}

/**
 * Collects the citizen ids that `value` holds, found by the key that holds them, never by the
 * look of the value: a charter capital or a debt may be twelve digits too. Union branches of the
 * contracts (`vn.hanoi.lienthong.common.CitizenParty`) are walked through like any key.
 */
export class ExposureCollector {
  readonly #found = new Map<string, { fields: Set<string>; mask: string }>();

  /** Records `citizenId` as shown `as` at `field` through `mask`. */
  add(citizenId: string, as: ExposureRole, field: string, mask: string): void {
    if (!CCCD.test(citizenId)) return;
    const key = `${citizenId} ${as}`;
    const entry = this.#found.get(key) ?? { fields: new Set<string>(), mask };
    entry.fields.add(field);
    if (mask === 'clear') entry.mask = 'clear';
    this.#found.set(key, entry);
  }

  /** Records exposures found elsewhere, such as by a projection. */
  addAll(exposures: readonly Exposure[]): void {
    for (const e of exposures) for (const field of e.fields) this.add(e.citizenId, e.as, field, e.mask);
  }

  /** Walks `value`, found at `path` in the answer, and records each citizen id it holds. */
  walk(value: unknown, path: string, mask: string): void {
    this.#walk(value, path, mask, pathKeys(path));
  }

  #walk(value: unknown, path: string, mask: string, keys: string[]): void {
    if (Array.isArray(value)) {
      for (const item of value) this.#walk(item, `${path}[]`, mask, keys);
      return;
    }
    if (typeof value !== 'object' || value === null || value instanceof Date) return;
    for (const [key, child] of Object.entries(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      const nested = [...keys, key];
      if (holdsCitizenIds(key)) {
        for (const id of Array.isArray(child) ? child : [child]) {
          if (typeof id === 'string')
            this.add(id, roleOf(nested), Array.isArray(child) ? `${at}[]` : at, mask);
        }
      } else {
        this.#walk(child, at, mask, nested);
      }
    }
  }

  /** What was found, by citizen then role. */
  exposures(): Exposure[] {
    return [...this.#found]
      .map(([key, { fields, mask }]) => {
        const [citizenId, as] = key.split(' ') as [string, ExposureRole];
        return { citizenId, as, fields: [...fields].sort(), mask };
      })
      .sort((a, b) => a.citizenId.localeCompare(b.citizenId) || a.as.localeCompare(b.as));
  }
}

/** The keys of a dotted answer path, without array markers. */
function pathKeys(path: string): string[] {
  return path === '' ? [] : path.replaceAll('[]', '').split('.');
}

/** The distinct citizen ids of `exposures`, sorted: the indexed field the access log reads. */
export function exposedCitizenIds(exposures: readonly Exposure[], subjectCitizen?: string): string[] {
  const ids = new Set(exposures.map((e) => e.citizenId));
  if (subjectCitizen !== undefined) ids.add(subjectCitizen);
  return [...ids].sort();
}

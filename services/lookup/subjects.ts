import { type ViewName } from '../sharing/projection';

/**
 * The identifier each view is looked up by, as a JSON Schema pattern. Anything else is refused
 * with 400 before it reaches the store, so no filter is ever built from an unchecked value.
 */
export const SUBJECT_PATTERNS: Readonly<Record<ViewName, string>> = {
  // Căn cước công dân: 12 digits.
  citizens: '^\\d{12}$',
  // Mã số doanh nghiệp: the enterprise's 10-digit tax code, or 13 with a branch suffix.
  enterprises: '^\\d{10}(-\\d{3})?$',
  // Biển số: the canonical form the vehicle connector writes, such as 30K-456.78 or 29A-1234.
  vehicles: '^\\d{2}[A-ZĐ]{1,2}\\d?-(\\d{3}\\.\\d{2}|\\d{4})$',
  // Mã hồ sơ: the receiving unit's code, the date and a sequence number.
  dossiers: '^\\d{3}\\.\\d{2}\\.\\d{2}\\.H\\d{2}-\\d{6}-\\d{4,6}$',
};

/** Longest identifier of any view. */
export const SUBJECT_MAX_LENGTH = 40;

/** The URL segment of each view; the view names themselves. */
export const SUBJECT_ROUTES: readonly { view: ViewName; param: string }[] = [
  { view: 'citizens', param: 'id' },
  { view: 'enterprises', param: 'code' },
  { view: 'vehicles', param: 'plate' },
  { view: 'dossiers', param: 'id' },
];

export const AGENCY_PATTERN = '^HN-[A-Z0-9]+(-[A-Z0-9]+)*$';
export const ACTOR_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

/** Whether `id` is a well-formed identifier of `view`. */
export function isSubjectId(view: ViewName, id: string): boolean {
  return id.length <= SUBJECT_MAX_LENGTH && new RegExp(SUBJECT_PATTERNS[view], 'u').test(id);
}

import { type RecordIssue } from './agency';
import { HANOI_UTC_OFFSET_MS } from '../../services/platform/clock';

/**
 * Validators for the values whose format carries structure: citizen ids, tax and enterprise codes,
 * plates, dates and amounts. They are pure and never throw; each answers either the value in its
 * canonical form (with its decoded parts) or the reason it is refused, which a mapping turns into a
 * {@link RecordIssue} with {@link valueOrIssue}.
 *
 * Reasons never quote the value: it may be personal data, and the issue's path already says where
 * it is.
 */

/** A checked value: its canonical form, or why it was refused. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The stable codes of the issues the connectors' domain validation raises. */
export const RECORD_ISSUE_CODES = {
  INVALID_CCCD: 'INVALID_CCCD',
  INVALID_TAX_CODE: 'INVALID_TAX_CODE',
  INVALID_ENTERPRISE_CODE: 'INVALID_ENTERPRISE_CODE',
  INVALID_PLATE: 'INVALID_PLATE',
  /** Not an ISO 8601 date, or not a day of the calendar (30 February). */
  INVALID_DATE: 'INVALID_DATE',
  /** A date that records something that happened, later than now plus {@link CLOCK_SKEW_MS}. */
  DATE_IN_FUTURE: 'DATE_IN_FUTURE',
  /** Two dates of one record in the wrong order, such as a due date before the reception. */
  DATE_ORDER: 'DATE_ORDER',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  INVALID_INTEGER: 'INVALID_INTEGER',
  /** A field the record's kind requires, such as the CCCD of an individual taxpayer. */
  MISSING_VALUE: 'MISSING_VALUE',
  /** A field the record's kind does not allow, such as a CCCD for an enterprise taxpayer. */
  NOT_APPLICABLE: 'NOT_APPLICABLE',
  /** An ownership transfer whose new owner is the previous one. */
  SAME_OWNER: 'SAME_OWNER',
  /** An amendment that changes nothing. */
  NOTHING_CHANGED: 'NOTHING_CHANGED',
  /** A CSV row without a column of the agency's format. */
  MISSING_COLUMN: 'MISSING_COLUMN',
  /** A CSV row with a value in a column its record kind does not use. */
  COLUMN_NOT_APPLICABLE: 'COLUMN_NOT_APPLICABLE',
} as const;

export type RecordIssueCode = (typeof RECORD_ISSUE_CODES)[keyof typeof RECORD_ISSUE_CODES];

/**
 * The value of a check, or `undefined` after pushing an issue at `path` with the check's reason.
 * Lets a mapping check every field and report all the issues of a record at once.
 */
export function valueOrIssue<T>(
  issues: RecordIssue[],
  path: string,
  code: RecordIssueCode,
  checked: Checked<T>,
): T | undefined {
  if (checked.ok) return checked.value;
  issues.push({ path, code, message: checked.reason });
  return undefined;
}

// --- Citizen identity number (số định danh cá nhân, printed on the CCCD card) -------------------

/**
 * The province codes of birth registration that open a citizen identity number: the 63 provinces
 * and centrally governed cities, as listed in Circular 07/2016/TT-BCA, Appendix 1 (still printed on
 * cards after the 2025 merger of provinces, since a number never changes).
 */
export const CCCD_PROVINCE_CODES = {
  '001': 'Hà Nội',
  '002': 'Hà Giang',
  '004': 'Cao Bằng',
  '006': 'Bắc Kạn',
  '008': 'Tuyên Quang',
  '010': 'Lào Cai',
  '011': 'Điện Biên',
  '012': 'Lai Châu',
  '014': 'Sơn La',
  '015': 'Yên Bái',
  '017': 'Hòa Bình',
  '019': 'Thái Nguyên',
  '020': 'Lạng Sơn',
  '022': 'Quảng Ninh',
  '024': 'Bắc Giang',
  '025': 'Phú Thọ',
  '026': 'Vĩnh Phúc',
  '027': 'Bắc Ninh',
  '030': 'Hải Dương',
  '031': 'Hải Phòng',
  '033': 'Hưng Yên',
  '034': 'Thái Bình',
  '035': 'Hà Nam',
  '036': 'Nam Định',
  '037': 'Ninh Bình',
  '038': 'Thanh Hóa',
  '040': 'Nghệ An',
  '042': 'Hà Tĩnh',
  '044': 'Quảng Bình',
  '045': 'Quảng Trị',
  '046': 'Thừa Thiên Huế',
  '048': 'Đà Nẵng',
  '049': 'Quảng Nam',
  '051': 'Quảng Ngãi',
  '052': 'Bình Định',
  '054': 'Phú Yên',
  '056': 'Khánh Hòa',
  '058': 'Ninh Thuận',
  '060': 'Bình Thuận',
  '062': 'Kon Tum',
  '064': 'Gia Lai',
  '066': 'Đắk Lắk',
  '067': 'Đắk Nông',
  '068': 'Lâm Đồng',
  '070': 'Bình Phước',
  '072': 'Tây Ninh',
  '074': 'Bình Dương',
  '075': 'Đồng Nai',
  '077': 'Bà Rịa - Vũng Tàu',
  '079': 'Hồ Chí Minh',
  '080': 'Long An',
  '082': 'Tiền Giang',
  '083': 'Bến Tre',
  '084': 'Trà Vinh',
  '086': 'Vĩnh Long',
  '087': 'Đồng Tháp',
  '089': 'An Giang',
  '091': 'Kiên Giang',
  '092': 'Cần Thơ',
  '093': 'Hậu Giang',
  '094': 'Sóc Trăng',
  '095': 'Bạc Liêu',
  '096': 'Cà Mau',
} as const;

export type CccdProvinceCode = keyof typeof CCCD_PROVINCE_CODES;

/** What a citizen identity number says about its holder. */
export interface CccdParts {
  cccd: string;
  province: CccdProvinceCode;
  sex: 'male' | 'female';
  birthYear: number;
}

/**
 * Checks a citizen identity number: 12 digits,
 * 1. digits 1-3: the province code of birth registration ({@link CCCD_PROVINCE_CODES});
 * 2. digit 4: century and sex, even for men and odd for women: 0/1 born 1900-1999, 2/3 2000-2099,
 *    4/5 2100-2199, 6/7 2200-2299, 8/9 2300-2399;
 * 3. digits 5-6: the last two digits of the birth year, which must not be after the year of `now`
 *    plus {@link CLOCK_SKEW_MS};
 * 4. digits 7-12: a random sequence, not checked.
 *
 * Numbers of births registered abroad, which start with a country code, are refused: no agency
 * feeding lienthong issues records for them yet.
 *
 * @param now epoch milliseconds; the year is taken in Hà Nội time
 * @see Decree 137/2015/NĐ-CP, Article 13 (structure), Circular 07/2016/TT-BCA (codes)
 */
export function checkCccd(value: string, now: number): Checked<CccdParts> {
  if (!/^\d{12}$/.test(value)) return { ok: false, reason: 'A CCCD number must be exactly 12 digits' };
  const province = value.slice(0, 3);
  if (!Object.hasOwn(CCCD_PROVINCE_CODES, province)) {
    // No reason quotes the number's parts: it is kept with an import's status and shown in answers.
    return {
      ok: false,
      reason: 'The province code (first 3 digits) of the CCCD number is not one of the 63 codes',
    };
  }
  const centuryAndSex = Number(value[3]);
  const birthYear = 1900 + Math.floor(centuryAndSex / 2) * 100 + Number(value.slice(4, 6));
  // A birth registered a moment after midnight on 1 January, by a clock a little fast, is no error.
  if (birthYear > hanoiYear(now + CLOCK_SKEW_MS)) {
    return {
      ok: false,
      reason: 'The birth year the CCCD number gives (digits 4 to 6) is in the future',
    };
  }
  return {
    ok: true,
    value: {
      cccd: value,
      province: province as CccdProvinceCode,
      sex: centuryAndSex % 2 === 0 ? 'male' : 'female',
      birthYear,
    },
  };
}

// --- Tax code (mã số thuế) and enterprise code (mã số doanh nghiệp) ----------------------------

const TAX_CODE_WEIGHTS = [31, 29, 23, 19, 17, 13, 7, 5, 3] as const;

/**
 * The check digit of a tax code's first 9 digits: 10 - (Σ digit × weight mod 11) with the weights
 * 31, 29, 23, 19, 17, 13, 7, 5, 3; `undefined` when that is 10, since such a prefix is never issued.
 *
 * @see Circular 105/2020/TT-BTC, which sets the tax code's structure
 */
export function taxCodeCheckDigit(first9: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i += 1) sum += (first9.charCodeAt(i) - 48) * TAX_CODE_WEIGHTS[i];
  const check = 10 - (sum % 11);
  return check === 10 ? undefined : check;
}

/** A tax code taken apart. */
export interface TaxCodeParts {
  /** Canonical form: `0101234567`, or `0101234567-001` for a dependent unit. */
  taxCode: string;
  /** The 10-digit code of the taxpayer, or of the dependent unit's parent. */
  base: string;
  /** The 3-digit number of the dependent unit (đơn vị phụ thuộc), or null. */
  branch: string | null;
}

/**
 * Checks a tax code: 10 digits whose 10th is the check digit of the first 9
 * ({@link taxCodeCheckDigit}), or, for a dependent unit (branch, representative office, business
 * location), those 10 digits then a 3-digit unit number from 001 to 999.
 *
 * The 13-digit form is accepted as written on documents, `0101234567-001`, and also without the
 * hyphen, `0101234567001`, as some exports strip it; it is answered with the hyphen, as the
 * contract writes it.
 */
export function checkTaxCode(value: string): Checked<TaxCodeParts> {
  const match = /^(\d{10})(?:-?(\d{3}))?$/.exec(value);
  if (!match) {
    return { ok: false, reason: 'A tax code must be 10 digits, or 13 written as 10 digits, a hyphen and 3' };
  }
  const base = match[1];
  const branch = match[2] ?? null;
  if (taxCodeCheckDigit(base) !== Number(base[9])) {
    return { ok: false, reason: 'The check digit (10th digit) of the tax code does not match' };
  }
  if (branch === '000') return { ok: false, reason: 'A dependent unit number runs from 001 to 999' };
  return { ok: true, value: { taxCode: branch === null ? base : `${base}-${branch}`, base, branch } };
}

/**
 * Checks an enterprise code: since 2015 it is the enterprise's tax code, so 10 digits with a valid
 * check digit. A dependent unit has no enterprise code of its own, so the 13-digit form is refused.
 *
 * @see Law on Enterprises 2020, Article 29
 */
export function checkEnterpriseCode(value: string): Checked<string> {
  if (!/^\d{10}$/.test(value)) return { ok: false, reason: 'An enterprise code must be exactly 10 digits' };
  const checked = checkTaxCode(value);
  return checked.ok
    ? { ok: true, value }
    : { ok: false, reason: 'The check digit (10th digit) of the enterprise code does not match' };
}

// --- Registration plate (biển số xe) -----------------------------------------------------------

/** The plate province codes of Hà Nội: 29-33 and 40 (the former Hà Tây). */
export const HANOI_PLATE_PROVINCES = ['29', '30', '31', '32', '33', '40'] as const;

/**
 * The plate grammar, after {@link normalizePlate} has upper-cased the text and removed the spaces
 * around a hyphen: a 2-digit province code, a series of one or two letters optionally followed by a
 * digit (motorbikes: `A1`, `MĐ1`), a hyphen or a space, then the number, either 5 digits written
 * `123.45` (the dot may be left out) or the 4 digits of older plates.
 *
 * A separator before the number is required: `29A12345` could be `29A1-2345` or `29A-123.45`.
 */
export const PLATE_PATTERN = /^(\d{2})-?([A-ZĐ]{1,2}\d?)[- ](?:(\d{3})\.?(\d{2})|(\d{4}))$/u;

/** A plate taken apart. */
export interface PlateParts {
  /** Canonical form: `29A-123.45`, `29A1-234.56`, `29LD-123.45`, or `29A-1234` for an old plate. */
  plate: string;
  province: string;
  series: string;
  number: string;
}

/**
 * Checks a Vietnamese registration plate against {@link PLATE_PATTERN}, with a province code from
 * 11 to 99, and answers it in the canonical form the topic is keyed by. Spacing and case are
 * normalised, so `29a 123.45`, `29-A1 234.56` (a motorbike plate's two lines) and `29A-12345` are
 * accepted.
 *
 * Any province is accepted, not only Hà Nội's ({@link HANOI_PLATE_PROVINCES}): since 2023 a plate
 * belongs to its owner (biển số định danh) and moves with them, so a vehicle registered in Hà Nội
 * may keep a plate of another province.
 *
 * @see Circular 24/2023/TT-BCA, Article 37 and Appendix 2 (plate series)
 */
export function normalizePlate(value: string): Checked<PlateParts> {
  const text = value
    .normalize('NFC')
    .trim()
    .toUpperCase()
    .replace(/\s*-\s*/g, '-')
    .replace(/\s+/g, ' ');
  const match = PLATE_PATTERN.exec(text);
  if (!match) {
    return { ok: false, reason: 'A plate must look like 29A-123.45, 29A1-234.56, 29LD-123.45 or 29A-1234' };
  }
  const [, province = '', series = '', head, tail, old] = match;
  if (Number(province) < 11) return { ok: false, reason: 'A plate province code runs from 11 to 99' };
  const number = old ?? `${head}.${tail}`;
  return { ok: true, value: { plate: `${province}${series}-${number}`, province, series, number } };
}

// --- Dates ------------------------------------------------------------------------------------

/**
 * The clock skew allowed between an agency system and the bus: how far ahead of the bus's clock a
 * date that records something that happened may be. Senders' clocks are not ours, and a record made
 * a moment ago must not be refused for a slightly fast clock. Five minutes, Kerberos's default
 * maximum skew between a client and its server; a sender further off needs its clock set (NTP).
 *
 * @see https://web.mit.edu/kerberos/krb5-latest/doc/admin/conf_files/krb5_conf.html (`clockskew`, 300 s)
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The message of a `DATE_IN_FUTURE` issue, which says the skew it allowed. */
export const DATE_IN_FUTURE_REASON = `The date is later than the bus's time plus the allowed clock skew of ${CLOCK_SKEW_MS / 60_000} minutes`;

/** The ISO 8601 forms {@link parseInstant} reads; the native schemas use it as their pattern. */
export const INSTANT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Reads an ISO 8601 date or date-time into epoch milliseconds. Accepted forms:
 * - with an offset, `2026-11-20T09:15:00+07:00` or `2026-11-20T02:15:00Z`: that instant;
 * - without an offset, `2026-11-20T09:15:00`: Hà Nội local time (UTC+7), which is what agency
 *   systems in Hà Nội write when they write no offset;
 * - a date alone, `2026-11-20`: midnight at the start of that day in Hà Nội.
 *
 * Seconds and up to 3 fractional digits are optional. The date must exist in the calendar, and
 * the hour be 00-23: JavaScript's `Date` would otherwise roll 30 February over into March.
 */
export function parseInstant(text: string): Checked<number> {
  const m = INSTANT_PATTERN.exec(text);
  if (!m)
    return { ok: false, reason: 'A date must be ISO 8601, e.g. 2026-11-20T09:15:00+07:00 or 2026-11-20' };
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const local = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0')));
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || year < 1900) {
    return { ok: false, reason: 'The date does not exist in the calendar' };
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return { ok: false, reason: 'The time of day is out of range' };
  }
  let offsetMs = HANOI_UTC_OFFSET_MS;
  if (offset === 'Z') offsetMs = 0;
  else if (offset !== undefined) {
    const sign = offset.startsWith('-') ? -1 : 1;
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 14 || om > 59) return { ok: false, reason: 'The UTC offset is out of range' };
    offsetMs = sign * (oh * 3_600_000 + om * 60_000);
  }
  return { ok: true, value: local - offsetMs };
}

/**
 * Whether a date that records something that happened (a reception, a registration, a transfer)
 * lies in the future: later than `now` plus {@link CLOCK_SKEW_MS}. Dates that may lie ahead, such
 * as a due date or the day a suspension takes effect, are not checked with it.
 */
export function isInFuture(epochMs: number, now: number): boolean {
  return epochMs > now + CLOCK_SKEW_MS;
}

/** The calendar year at `epochMs` in Hà Nội. */
export function hanoiYear(epochMs: number): number {
  return new Date(epochMs + HANOI_UTC_OFFSET_MS).getUTCFullYear();
}

// --- Plain values -----------------------------------------------------------------------------

/** The pattern of an amount of whole đồng: 1 to 18 digits, the precision of the contract's decimals. */
export const AMOUNT_PATTERN = /^\d{1,18}$/;

/**
 * Checks an amount of money in whole Vietnamese đồng, written as digits only: no sign, separator,
 * decimals or exponent, since the đồng has no minor unit and a separator is ambiguous (`1.250`
 * means 1250 in Việt Nam and 1.25 elsewhere). Answered without leading zeros, as the Avro decimal
 * string the contract carries.
 */
export function checkAmount(text: string): Checked<string> {
  if (!AMOUNT_PATTERN.test(text)) {
    return { ok: false, reason: 'An amount must be whole đồng written with 1 to 18 digits and nothing else' };
  }
  return { ok: true, value: text.replace(/^0+(?=\d)/, '') };
}

/** Reads a whole number written in decimal digits, from `min` to `max` (a safe integer). */
export function parseInteger(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): Checked<number> {
  if (!/^-?\d{1,16}$/.test(text)) return { ok: false, reason: 'Must be a whole number written in digits' };
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return { ok: false, reason: `Must be a whole number from ${min} to ${max}` };
  }
  return { ok: true, value };
}

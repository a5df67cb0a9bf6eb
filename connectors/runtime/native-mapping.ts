import { type Static, type TObject, type TSchema, type TString, type TUnsafe, Type } from '@sinclair/typebox';
import {
  type CitizenParty,
  type EnterpriseParty,
  type Subjects,
  type TopicEvents,
} from '../../schemas/generated/events';
import { TOPICS, type TopicName } from '../../schemas/topics';
import { type RecordIssue } from './agency';
import { eventIdFor } from './event-id';
import {
  checkCccd,
  checkEnterpriseCode,
  DATE_IN_FUTURE_REASON,
  INSTANT_PATTERN,
  isInFuture,
  parseInstant,
  RECORD_ISSUE_CODES,
  valueOrIssue,
} from './identifiers';

/**
 * What the four agencies' native formats share: the fields every record carries, the one-of-several
 * record kinds, the parties, and the envelope every mapping fills the same way.
 */

/** A string field holding one of `symbols`, the agency's own codes. */
export function nativeEnum<const T extends readonly string[]>(
  symbols: T,
  description: string,
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...symbols], description });
}

/** A date field: ISO 8601 text as {@link parseInstant} reads it, Hà Nội time when it has no offset. */
export function nativeInstant(description: string): TString {
  return Type.String({
    description: `${description} ISO 8601, e.g. 2026-11-20T09:15:00+07:00; without an offset, Hà Nội time (UTC+7).`,
    pattern: INSTANT_PATTERN.source,
    maxLength: 29,
  });
}

/** A free-text field, such as a name or a note, of 1 to `maxLength` characters. */
export function nativeText(description: string, maxLength: number): TString {
  return Type.String({ description, minLength: 1, maxLength });
}

/**
 * Reads a native date into epoch milliseconds, or pushes an `INVALID_DATE` issue. Given `now` (the
 * bus's clock), the date records something that happened, and a date later than `now` plus
 * the allowed clock skew (`CLOCK_SKEW_MS`) is a `DATE_IN_FUTURE` issue.
 */
export function readInstant(
  issues: RecordIssue[],
  path: string,
  text: string,
  now?: number,
): number | undefined {
  const at = valueOrIssue(issues, path, RECORD_ISSUE_CODES.INVALID_DATE, parseInstant(text));
  if (at === undefined || now === undefined || !isInFuture(at, now)) return at;
  issues.push({ path, code: RECORD_ISSUE_CODES.DATE_IN_FUTURE, message: DATE_IN_FUTURE_REASON });
  return undefined;
}

/** The fields every native record carries, whatever its agency and kind. */
export const NATIVE_RECORD_FIELDS = {
  maBanGhi: Type.String({
    description:
      "Mã bản ghi: the id of the record in the agency system, as that system writes it; the event's sourceRecordId. One record per entity keeps its id across changes.",
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._/:-]*$',
  }),
  phienBan: Type.Integer({
    description:
      "Phiên bản: the version of the record after this change, from 1, increasing with each change of the record; the event's sourceVersion. Sending the same version again has no second effect.",
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
  }),
} as const;

/**
 * The JSON Schema of a record that is one of several kinds, told apart by `discriminator`: one
 * `if`/`then` per kind rather than an `anyOf`, so that a validator reports the faults of the
 * record's own kind only, not why it fails every other kind too. Each kind's schema has
 * `additionalProperties: false`, which applies to the whole record.
 *
 * The result is a plain JSON Schema (Ajv reads it); TypeBox's own checker does not run `if`/`then`.
 */
export function oneKindOf<K extends string, B extends Record<K, TObject>>(
  discriminator: string,
  branches: B,
  description: string,
): TSchema & { static: Static<B[K]> } {
  const kinds = Object.keys(branches) as K[];
  return Type.Unsafe<Static<B[K]>>({
    type: 'object',
    description,
    required: [discriminator],
    properties: { [discriminator]: { type: 'string', enum: kinds } },
    allOf: kinds.map((kind) => ({
      if: { type: 'object', required: [discriminator], properties: { [discriminator]: { const: kind } } },
      then: branches[kind],
    })),
  });
}

/** Who takes part: a citizen by CCCD number or an enterprise by enterprise code. */
export const NativeParty = Type.Object(
  {
    loaiDoiTuong: Type.Union([Type.Literal('CONG_DAN'), Type.Literal('DOANH_NGHIEP')], {
      description:
        'Loại đối tượng: CONG_DAN, a citizen (công dân); DOANH_NGHIEP, an enterprise (doanh nghiệp).',
    }),
    soDinhDanh: Type.String({
      description:
        "Số định danh: the citizen's 12-digit identity number (số định danh cá nhân, on the CCCD card), or the enterprise's 10-digit code (mã số doanh nghiệp).",
      minLength: 1,
      maxLength: 20,
    }),
  },
  { additionalProperties: false },
);
export type NativeParty = Static<typeof NativeParty>;

/** A canonical party: the union the contracts hold, keyed by the record's full name. */
export type CanonicalParty =
  | { 'vn.hanoi.lienthong.common.CitizenParty': CitizenParty }
  | { 'vn.hanoi.lienthong.common.EnterpriseParty': EnterpriseParty };

/**
 * Checks a native party's identifier and answers it as the contract's party union, or
 * `undefined` after pushing an issue at `<path>.soDinhDanh`.
 */
export function mapParty(
  issues: RecordIssue[],
  path: string,
  party: NativeParty,
  now: number,
): { party: CanonicalParty; citizenId?: string; enterpriseCode?: string } | undefined {
  const at = `${path}.soDinhDanh`;
  if (party.loaiDoiTuong === 'CONG_DAN') {
    const cccd = valueOrIssue(issues, at, RECORD_ISSUE_CODES.INVALID_CCCD, checkCccd(party.soDinhDanh, now));
    if (cccd === undefined) return undefined;
    return {
      party: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: cccd.cccd } },
      citizenId: cccd.cccd,
    };
  }
  const code = valueOrIssue(
    issues,
    at,
    RECORD_ISSUE_CODES.INVALID_ENTERPRISE_CODE,
    checkEnterpriseCode(party.soDinhDanh),
  );
  if (code === undefined) return undefined;
  return {
    party: { 'vn.hanoi.lienthong.common.EnterpriseParty': { enterpriseCode: code } },
    enterpriseCode: code,
  };
}

/** The fields of an event that do not depend on its kind. */
export type EnvelopeOf<T extends TopicName> = Omit<TopicEvents[T], 'eventType' | 'payload'>;

/**
 * The envelope of the event a native record maps to. `sourceAgency` is the topic's owner, and the
 * event id is derived from it, the record id and the version, so a record resent maps to the same
 * event. Subject lists drop empty and repeated identifiers: the contract allows each at most once.
 */
export function envelopeFor<T extends TopicName>(
  topic: T,
  record: { maBanGhi: string; phienBan: number },
  occurredAt: number,
  subjects: { [K in keyof Subjects]?: readonly (string | undefined | null)[] },
): EnvelopeOf<T> {
  const agency = TOPICS[topic].owner;
  const list = (ids: readonly (string | undefined | null)[] = []): string[] => [
    ...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== '')),
  ];
  return {
    eventId: eventIdFor(agency, record.maBanGhi, record.phienBan),
    occurredAt,
    sourceAgency: agency,
    sourceRecordId: record.maBanGhi,
    sourceVersion: record.phienBan,
    subjects: {
      citizenIds: list(subjects.citizenIds),
      enterpriseCodes: list(subjects.enterpriseCodes),
      plates: list(subjects.plates),
      dossierIds: list(subjects.dossierIds),
    },
  } as EnvelopeOf<T>;
}

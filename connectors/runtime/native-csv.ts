import { type RecordIssue } from './agency';
import {
  type Checked,
  checkAmount,
  parseInstant,
  parseInteger,
  RECORD_ISSUE_CODES,
  type RecordIssueCode,
} from './identifiers';

/** What `AgencyDefinition.csv.toNative` answers. */
export type CsvConversion = { ok: true; value: unknown } | { ok: false; issues: RecordIssue[] };

/**
 * Reads the cells of one CSV row of an agency export, strictly: an empty cell is an absent value,
 * a number must be digits only and a date ISO 8601 ({@link parseInstant}), and every fault is
 * collected with the path `$.<column>` so that a row reports all of them at once.
 *
 * Columns are named by the native field's path, `nguoiNop.soDinhDanh` for a nested field, so that
 * an issue found later by the schema or the mapping names the column too.
 *
 * Cells are read by the record kind's converter; {@link CsvCells.finish} then refuses a value in a
 * column that kind never read, since it would otherwise be dropped without a word.
 */
export class CsvCells {
  readonly issues: RecordIssue[] = [];
  private readonly read = new Set<string>();

  constructor(
    private readonly row: Readonly<Record<string, string>>,
    private readonly columns: readonly string[],
  ) {
    for (const column of columns) {
      if (typeof row[column] !== 'string') {
        this.issue(column, RECORD_ISSUE_CODES.MISSING_COLUMN, `Column ${column} is missing`);
      }
    }
  }

  /** The cell's text, trimmed; `undefined` when empty. */
  text(column: string): string | undefined {
    this.read.add(column);
    const value = this.row[column]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** A whole number from `min`. */
  integer(column: string, min = 0): number | undefined {
    return this.checked(column, RECORD_ISSUE_CODES.INVALID_INTEGER, (text) => parseInteger(text, min));
  }

  /** An amount of whole đồng, kept as its decimal string ({@link checkAmount}). */
  amount(column: string): string | undefined {
    return this.checked(column, RECORD_ISSUE_CODES.INVALID_AMOUNT, checkAmount);
  }

  /** A date, checked but kept as written: the native record holds dates as ISO 8601 text. */
  instant(column: string): string | undefined {
    return this.checked(column, RECORD_ISSUE_CODES.INVALID_DATE, (text) => {
      const parsed = parseInstant(text);
      return parsed.ok ? { ok: true, value: text } : parsed;
    });
  }

  /**
   * The values of the columns not read yet, by column name: for a row whose record kind is unknown,
   * so that the native schema, not this reader, says what is wrong with it.
   */
  rest(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const column of this.columns) if (!this.read.has(column)) out[column] = this.text(column);
    return out;
  }

  /**
   * The record, with absent values left out, or every issue found. Call it after reading the cells
   * the record's kind uses.
   */
  finish(record: Record<string, unknown>): CsvConversion {
    for (const column of this.columns) {
      if (!this.read.has(column) && (this.row[column] ?? '').trim() !== '') {
        this.issue(
          column,
          RECORD_ISSUE_CODES.COLUMN_NOT_APPLICABLE,
          `Column ${column} is not used by this kind of record and must be empty`,
        );
      }
    }
    return this.issues.length > 0
      ? { ok: false, issues: this.issues }
      : { ok: true, value: withoutUndefined(record) };
  }

  private checked<T>(
    column: string,
    code: RecordIssueCode,
    check: (text: string) => Checked<T>,
  ): T | undefined {
    const text = this.text(column);
    if (text === undefined) return undefined;
    const result = check(text);
    if (result.ok) return result.value;
    this.issue(column, code, result.reason);
    return undefined;
  }

  private issue(column: string, code: RecordIssueCode, message: string): void {
    this.issues.push({ path: `$.${column}`, code, message });
  }
}

/**
 * A copy of `record` without its `undefined` properties, nested objects included; a nested object
 * left empty goes too, so that a group of empty cells reads as one absent value.
 */
export function withoutUndefined<T extends Record<string, unknown>>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const nested = withoutUndefined(value as Record<string, unknown>);
      if (Object.keys(nested).length > 0) out[key] = nested;
    } else if (value !== undefined) out[key] = value;
  }
  return out as T;
}

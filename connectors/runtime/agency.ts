import { type TSchema } from '@sinclair/typebox';
import { type TopicEvents } from '../../schemas/generated/events';
import { type TopicName } from '../../schemas/topics';

/** Why a record was refused, at a JSON path of the record as the agency sent it. */
export interface RecordIssue {
  /** JSON path into the submitted record, e.g. `$.owner.cccd` or `$.plate`. */
  path: string;
  /** Stable code, e.g. `INVALID_CCCD`, `INVALID_TAX_CODE`, `INVALID_PLATE`, `DATE_IN_FUTURE`. */
  code: string;
  message: string;
}

/** One canonical event a native record maps to, and the Kafka key it is published under. */
export interface MappedEvent<T extends TopicName = TopicName> {
  /** The aggregate id: dossier id, tax code, enterprise code or plate. */
  key: string;
  event: TopicEvents[T];
}

export type MapResult<T extends TopicName = TopicName> =
  { ok: true; value: MappedEvent<T> } | { ok: false; issues: RecordIssue[] };

export interface MapContext {
  /**
   * The bus clock's reading, in epoch milliseconds: dates of things that happened later than this
   * plus `CLOCK_SKEW_MS` are refused.
   */
  now: number;
}

/**
 * What makes a connector one agency's: its native record format, and how a record of it
 * becomes a canonical event. The shared runtime does everything else (HTTP, files, Kafka).
 */
export interface AgencyDefinition<T extends TopicName = TopicName, Native = unknown> {
  /** The connector's name and folder: `dossier`, `tax`, `business-registration`, `vehicle`. */
  name: string;
  topic: T;
  /** The agency code that owns the topic and signs every event's `sourceAgency`. */
  agency: string;
  /**
   * JSON Schema (TypeBox) of one native record, in the agency's own terms, with
   * `additionalProperties: false` everywhere: the runtime validates against it first.
   */
  nativeSchema: TSchema;
  /** Domain validation and mapping of a record that passed `nativeSchema`. Pure. */
  map(record: Native, context: MapContext): MapResult<T>;
  /**
   * The CSV header this agency's export files carry, and how one CSV row (all strings)
   * becomes a native record for `nativeSchema`; a row it cannot read yields issues instead.
   */
  csv: {
    columns: readonly string[];
    toNative(
      row: Readonly<Record<string, string>>,
    ): { ok: true; value: unknown } | { ok: false; issues: RecordIssue[] };
  };
}

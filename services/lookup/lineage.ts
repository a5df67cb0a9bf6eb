import { type IHeaders, type KafkaMessage } from 'kafkajs';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { type EventDecoder } from '../sharing/event-decoder';
import { type FilledFrom, type Provenance, sectionsOf, type ViewDoc } from '../sharing/projection';
import { coordinatesKey, type EventCoordinates } from './event-fetcher';

/**
 * Why a section's source event is not shown. Stable codes: auditors count them.
 * - `EVENT_NOT_FOUND`: no message at the coordinates (expired, compacted, unreachable in time);
 * - `EVENT_REPLACED`: a message is there, but with another eventId: the topic was deleted and created
 *   again, or the views were built from another cluster. That message is not shown: it is another
 *   record, perhaps of another person;
 * - `EVENT_UNREADABLE`: the message cannot be decoded, or no contract is owned by the section's agency.
 */
export const LINEAGE_MISSES = {
  EVENT_NOT_FOUND: 'EVENT_NOT_FOUND',
  EVENT_REPLACED: 'EVENT_REPLACED',
  EVENT_UNREADABLE: 'EVENT_UNREADABLE',
} as const;
export type LineageMiss = (typeof LINEAGE_MISSES)[keyof typeof LINEAGE_MISSES];

/** One section of a view document with where it came from and, when fetched, the event itself. */
export interface SectionLineage {
  /** The section's path in the document, such as `vehicles.30K-456%2E78`. */
  path: string;
  /** The section's values as the view holds them. */
  values: Record<string, unknown>;
  source: Provenance;
  event?:
    | {
        found: true;
        key: string | null;
        timestamp: string;
        /** The W3C `traceparent` the connector wrote; its trace id is `source.traceId`. */
        traceparent: string | null;
        /** Confluent wire format: the registry id of the writer schema. */
        schemaId: number | null;
        decoded: unknown;
      }
    | { found: false; code: LineageMiss; reason: string };
  /**
   * The older versions of the section's record that filled fields its own event did not carry (a
   * record fixed and resent late), by version, each with its event when fetched.
   */
  filled?: (FilledFrom & { version: string; event?: SectionLineage['event'] })[];
}

/** The contract of an agency's events: each topic has one owning agency. */
export function contractOf(agency: string): TopicName | undefined {
  return TOPIC_NAMES.find((t) => TOPICS[t].owner === agency);
}

/**
 * The lineage of a document: each section with its provenance and, if `messages` is given, the
 * source event read back from Kafka at its coordinates and decoded with its writer schema. The
 * event is shown only if its eventId is the one the section recorded; otherwise the answer says
 * why it is not found ({@link LINEAGE_MISSES}).
 */
export async function lineageOf(
  doc: ViewDoc,
  messages: ReadonlyMap<string, KafkaMessage> | undefined,
  decoder: EventDecoder,
): Promise<SectionLineage[]> {
  const out: SectionLineage[] = [];
  for (const { path, section } of sectionsOf(doc)) {
    const { source, filledFrom, ...values } = section as {
      source: Provenance;
      filledFrom?: Record<string, FilledFrom>;
    } & Record<string, unknown>;
    const entry: SectionLineage = { path, values, source };
    if (messages) entry.event = await eventAt(source, messages, decoder);
    if (filledFrom) {
      entry.filled = [];
      for (const [version, fill] of Object.entries(filledFrom)) {
        const filled: NonNullable<SectionLineage['filled']>[number] = { version, ...fill };
        // The same record, so the same agency as the section's own event.
        if (messages) filled.event = await eventAt({ ...source, ...fill }, messages, decoder);
        entry.filled.push(filled);
      }
    }
    out.push(entry);
  }
  return out;
}

/** The coordinates of every section's source event, and of the events that filled it late. */
export function sourceCoordinates(doc: ViewDoc): EventCoordinates[] {
  return sectionsOf(doc).flatMap(({ section }) => {
    const { topic, partition, offset } = section.source as Provenance;
    const fills = Object.values((section.filledFrom ?? {}) as Record<string, FilledFrom>);
    return [
      { topic, partition, offset },
      ...fills.map((f) => ({ topic: f.topic, partition: f.partition, offset: f.offset })),
    ];
  });
}

async function eventAt(
  source: Provenance,
  messages: ReadonlyMap<string, KafkaMessage>,
  decoder: EventDecoder,
): Promise<SectionLineage['event']> {
  const message = messages.get(coordinatesKey(source));
  if (!message) {
    return {
      found: false,
      code: LINEAGE_MISSES.EVENT_NOT_FOUND,
      reason: 'No message at these coordinates (expired, compacted or unreachable)',
    };
  }
  const contract = contractOf(source.agency);
  if (!contract) {
    return {
      found: false,
      code: LINEAGE_MISSES.EVENT_UNREADABLE,
      reason: `No contract is owned by ${source.agency}`,
    };
  }
  let decoded;
  try {
    decoded = await decoder.decode(contract, message.value);
  } catch (err) {
    return {
      found: false,
      code: LINEAGE_MISSES.EVENT_UNREADABLE,
      reason: `The message cannot be decoded: ${(err as Error).message}`,
    };
  }
  // Coordinates name a place, not an event: after a topic is recreated they hold another one.
  if (decoded.eventId !== source.eventId) {
    return {
      found: false,
      code: LINEAGE_MISSES.EVENT_REPLACED,
      reason:
        'Another event is at these coordinates: the topic was recreated or the views come from another cluster',
    };
  }
  return {
    found: true,
    key: message.key?.toString() ?? null,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    traceparent: header(message.headers, 'traceparent'),
    schemaId: message.value && message.value.length >= 5 ? message.value.readInt32BE(1) : null,
    decoded,
  };
}

function header(headers: IHeaders | undefined, name: string): string | null {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.toString();
}

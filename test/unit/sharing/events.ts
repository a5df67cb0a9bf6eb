import { eventIdFor } from '../../../connectors/runtime/event-id';
import { type PayloadOf } from '../../../schemas/envelope';
import {
  type CitizenParty,
  type EnterpriseParty,
  EVENT_PAYLOAD_BRANCHES,
  type EventOfType,
  type LienthongEvent,
  type Subjects,
} from '../../../schemas/generated/events';
import { TOPICS, type TopicName } from '../../../schemas/topics';
import { type Provenance, type SourcedEvent } from '../../../services/sharing/projection';

export type EventType = LienthongEvent['eventType'];

/** One change of one source record: what the envelope says besides the payload. */
export interface Change {
  record: string;
  version: number;
  occurredAt: number;
  /** Lists left out are empty, as a connector leaves them. */
  subjects: Partial<Subjects>;
}

/** The topic an event type is published on. */
export function topicOf(eventType: EventType): TopicName {
  for (const [topic, branches] of Object.entries(EVENT_PAYLOAD_BRANCHES)) {
    if (Object.hasOwn(branches, eventType)) return topic as TopicName;
  }
  throw new Error(`No topic carries ${eventType}`);
}

/**
 * An event as a connector would publish it: the topic's owner as source agency, and the event id
 * derived from (agency, record, version) the way the connectors derive it.
 */
export function eventOf<T extends EventType>(
  eventType: T,
  change: Change,
  payload: PayloadOf<EventOfType<T>>,
): EventOfType<T> {
  const topic = topicOf(eventType);
  const agency = TOPICS[topic].owner;
  const branch = (EVENT_PAYLOAD_BRANCHES[topic] as Record<string, string>)[eventType];
  return {
    eventId: eventIdFor(agency, change.record, change.version),
    occurredAt: change.occurredAt,
    sourceAgency: agency,
    sourceRecordId: change.record,
    sourceVersion: change.version,
    subjects: { citizenIds: [], enterpriseCodes: [], plates: [], dossierIds: [], ...change.subjects },
    eventType,
    payload: { [branch as string]: payload },
  } as unknown as EventOfType<T>;
}

export const citizen = (citizenId: string): { 'vn.hanoi.lienthong.common.CitizenParty': CitizenParty } => ({
  'vn.hanoi.lienthong.common.CitizenParty': { citizenId },
});

export const enterprise = (
  enterpriseCode: string,
): { 'vn.hanoi.lienthong.common.EnterpriseParty': EnterpriseParty } => ({
  'vn.hanoi.lienthong.common.EnterpriseParty': { enterpriseCode },
});

/** When the tests' events are applied, unless a test says otherwise. */
export const INGESTED_AT = new Date(Date.UTC(2024, 5, 1));

/** Where and when an event was read from Kafka. */
export interface Delivery {
  offset: number | string;
  partition?: number;
  ingestedAt?: Date;
  /** Derived from the event id when left out, so that a redelivery carries the same trace. */
  traceId?: string | null;
}

/** An event with the provenance the sharing service gives it when it reads it from Kafka. */
export function sourced<E extends LienthongEvent>(event: E, delivery: Delivery): SourcedEvent & { event: E } {
  const source: Provenance = {
    agency: event.sourceAgency,
    topic: topicOf(event.eventType),
    partition: delivery.partition ?? 0,
    offset: String(delivery.offset),
    eventId: event.eventId,
    eventType: event.eventType,
    sourceRecordId: event.sourceRecordId,
    sourceVersion: event.sourceVersion,
    occurredAt: new Date(event.occurredAt),
    ingestedAt: delivery.ingestedAt ?? INGESTED_AT,
    traceId: delivery.traceId === undefined ? event.eventId.replace(/-/g, '') : delivery.traceId,
  };
  return { event, source };
}

/**
 * The events as one consumer would read them: each topic's offsets count up from 0 in the order
 * given, so that two orders that keep each topic's order give each event the same offset.
 */
export function deliver(events: readonly LienthongEvent[], ingestedAt = INGESTED_AT): SourcedEvent[] {
  const next = new Map<TopicName, number>();
  return events.map((event) => {
    const topic = topicOf(event.eventType);
    const offset = next.get(topic) ?? 0;
    next.set(topic, offset + 1);
    return sourced(event, { offset, ingestedAt });
  });
}

/** The same event read again, e.g. after a rebalance or because the connector published it twice. */
export function redelivered(event: SourcedEvent, changes: Partial<Provenance>): SourcedEvent {
  return { event: event.event, source: { ...event.source, ...changes } };
}

import { type IHeaders, type KafkaMessage, type Message } from 'kafkajs';
import { BSON } from 'mongodb';
import { payloadOf } from '../../schemas/envelope';
import { type LienthongEvent } from '../../schemas/generated/events';
import { type TopicName } from '../../schemas/topics';
import { type TopicDeclaration } from '../platform/topic-policy';
import { type ViewDoc, type ViewName, VIEW_NAMES } from './projection';

/**
 * The sharing service's internal topic: the domain events re-keyed by the view document they
 * change, as Kafka Streams repartitions a stream before a keyed step. Each document's changes are
 * in one partition, so the member that holds the partition is the one writer of the document
 * across all the instances of the group.
 */
export const CHANGES_TOPIC = 'sharing.changes';

/**
 * Enough for three instances, with two partitions each to spread a round over; a topic's partitions
 * can be added later (a document's key then moves to another partition, see the README).
 */
export const CHANGES_PARTITIONS = 6;

/**
 * The internal topic as the topic policy declares it: a topic derived from the domain topics, kept
 * a month like an agreement's, since a rebuild derives everything again from the domain topics.
 */
export function changesTopicDeclaration(
  topic: string = CHANGES_TOPIC,
  numPartitions: number = CHANGES_PARTITIONS,
): TopicDeclaration {
  return { topic, kind: 'derived', numPartitions };
}

/**
 * The consumer group that reads the changes topic: the second stage's own, apart from the first's
 * (`groupId`, the domain topics). One group for both would hold a chunk's routing back until every
 * round fetched with it was written, since a consumer fetches again only once the chunks of its
 * last fetch are done: each hop would cost a round.
 */
export const changesGroupOf = (groupId: string): string => `${groupId}.changes`;

/** A consumer group of the sharing service's, with the topics it reads. */
export interface SharingGroup {
  groupId: string;
  topics: string[];
}

/**
 * The groups a sharing member of `groupId` reads in: the domain topics' group, and the changes
 * topic's when it routes through one. Everything is applied once each has committed its topics.
 */
export function sharingGroups(
  groupId: string,
  domainTopics: readonly string[],
  changesTopic: string | null,
): SharingGroup[] {
  return [
    { groupId, topics: [...domainTopics] },
    ...(changesTopic === null ? [] : [{ groupId: changesGroupOf(groupId), topics: [changesTopic] }]),
  ];
}

/** The headers a change adds to the domain message's own (`traceparent`, a redrive's history...). */
export const CHANGE_HEADERS = {
  /** JSON: the domain message's topic, partition, offset, timestamp, key (base64) and ingestedAt. */
  source: 'lienthong-change-source',
  /** JSON: the view document to change, and whether it is the event's home document. */
  target: 'lienthong-change-target',
  /** BSON: what the home document held before the event, for a document whose projection reads it. */
  context: 'lienthong-change-context',
} as const;

/** Where a change's event was read from: the coordinates its provenance and dead letters carry. */
export interface ChangeSource {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  /** When the first stage read it: the same for every document the event changes. */
  ingestedAt: Date;
}

/**
 * One view document to change by one event.
 *
 * A **home** change goes to the event's own aggregate document (an enterprise's for a
 * business-registration event, a vehicle's for a vehicle event): the other documents' projections
 * read that document as it was before the event, so its writer, which alone knows that state,
 * works out the other documents and sends them on as **dependent** changes carrying it
 * (`context`). Every other event (tax, dossier) is sent by the first stage straight to each
 * document it changes.
 */
export interface Change {
  source: ChangeSource;
  /** The domain message's bytes, exactly as read, and its headers without the change headers. */
  value: Buffer;
  headers: IHeaders;
  view: ViewName;
  id: string;
  home: boolean;
  /** The documents the projection may read besides its own, as they were before the event. */
  context: ReadonlyMap<string, ViewDoc | null>;
}

/** The key of a view document in the internal topic, and in a context. */
export const documentKey = (view: ViewName, id: string): string => `${view}/${id}`;

/**
 * The view document a key of the internal topic names, without reading the message; null for a key
 * that names none. Only a hint: the change's own header is what a round applies.
 */
export function documentOfKey(key: Buffer | null): { view: ViewName; id: string } | null {
  const text = key?.toString() ?? '';
  const slash = text.indexOf('/');
  const view = text.slice(0, slash) as ViewName;
  return slash > 0 && VIEW_NAMES.includes(view) ? { view, id: text.slice(slash + 1) } : null;
}

/**
 * The document whose state the other documents' projections read, by the topic of the event: the
 * aggregate the domain topic is keyed by, which only that topic's events change (`registration`).
 */
export function homeDocument(topic: TopicName, event: LienthongEvent): { view: ViewName; id: string } | null {
  switch (topic) {
    case 'business-registration':
      return { view: 'enterprises', id: (payloadOf(event) as { enterpriseCode: string }).enterpriseCode };
    case 'vehicle':
      return { view: 'vehicles', id: (payloadOf(event) as { plate: string }).plate };
    default:
      return null;
  }
}

/**
 * What a dependent change carries of the home document: its `registration` section, the only one
 * the projections read of another document (and the only one the home's own topic writes). The
 * maps (`history`, `dossiers`...) would make every message large and are never read.
 */
export function contextOf(doc: ViewDoc | null): ViewDoc | null {
  if (doc === null) return null;
  return doc.registration === undefined ? { _id: doc._id } : { _id: doc._id, registration: doc.registration };
}

/** The message of a change in the internal topic, keyed by its document. */
export function changeMessage(change: Change): Message {
  const { source } = change;
  return {
    key: documentKey(change.view, change.id),
    value: change.value,
    headers: {
      ...change.headers,
      [CHANGE_HEADERS.source]: JSON.stringify({
        topic: source.topic,
        partition: source.partition,
        offset: source.offset,
        timestamp: source.timestamp,
        key: source.key === null ? null : source.key.toString('base64'),
        ingestedAt: source.ingestedAt.toISOString(),
      }),
      [CHANGE_HEADERS.target]: JSON.stringify({ view: change.view, id: change.id, home: change.home }),
      ...(change.context.size > 0
        ? {
            [CHANGE_HEADERS.context]: Buffer.from(
              BSON.serialize({ docs: [...change.context].map(([key, doc]) => ({ key, doc })) }),
            ),
          }
        : {}),
    },
  };
}

/** A message of the internal topic is not a change: written by something else than this service. */
export class MalformedChangeError extends Error {
  override name = 'MalformedChangeError';
}

/** Reads a change back from its message; throws {@link MalformedChangeError} for anything else. */
export function readChange(message: KafkaMessage): Change {
  const headers: IHeaders = {};
  let source: ChangeSource | undefined;
  let target: { view: ViewName; id: string; home: boolean } | undefined;
  const context = new Map<string, ViewDoc | null>();
  try {
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      const first = Array.isArray(value) ? value[0] : value;
      if (name === CHANGE_HEADERS.source && first !== undefined) {
        const raw = JSON.parse(first.toString()) as Omit<ChangeSource, 'key' | 'ingestedAt'> & {
          key: string | null;
          ingestedAt: string;
        };
        source = {
          ...raw,
          key: raw.key === null ? null : Buffer.from(raw.key, 'base64'),
          ingestedAt: new Date(raw.ingestedAt),
        };
      } else if (name === CHANGE_HEADERS.target && first !== undefined) {
        target = JSON.parse(first.toString()) as typeof target;
      } else if (name === CHANGE_HEADERS.context && first !== undefined) {
        const { docs } = BSON.deserialize(Buffer.from(first)) as {
          docs: { key: string; doc: ViewDoc | null }[];
        };
        for (const { key, doc } of docs) context.set(key, doc);
      } else if (value !== undefined) {
        headers[name] = value;
      }
    }
  } catch (err) {
    throw new MalformedChangeError('A change header does not parse', { cause: err });
  }
  if (
    source === undefined ||
    target === undefined ||
    !(VIEW_NAMES as readonly string[]).includes(target.view) ||
    message.value === null
  )
    throw new MalformedChangeError('A message of the changes topic lacks its source, target or value');
  return {
    source,
    value: message.value,
    headers,
    view: target.view,
    id: target.id,
    home: target.home,
    context,
  };
}

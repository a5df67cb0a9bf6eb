import { type Collection, type Db } from 'mongodb';
import { statementChunks } from '../platform/mongo';
import { type DerivedValue } from './derived-schema';
import { type Derivation } from './deriver';

/** The derived events of every agreement, in derivation order: the pull feed, and the record of each data flow. */
export const FEED_COLLECTION = 'subscription_feed';

/** One derived event as the feed keeps it. */
export interface FeedEntry {
  /** `<agreement id>:<seq, 15 digits>`, so that an agreement's entries are one `_id` range in order. */
  _id: string;
  agreementId: string;
  seq: number;
  eventId: string;
  key: string;
  /**
   * The derived value as JSON text: a union's branch is keyed by its full name, whose dots a
   * store document may not hold in a field name.
   */
  value: string;
  /**
   * The citizens the source event concerns (its `subjects.citizenIds`): whose data this flow
   * carried, for the citizen's access log. Never sent to the consumer.
   */
  citizenIds: string[];
  source: { topic: string; partition: number; offset: string };
  derivedAt: Date;
}

/** Per derived event, by its id: whose data it carries, read back for each webhook delivery. */
export const FLOWS_COLLECTION = 'subscription_flows';

/** A derived event's data flow: the citizens its source concerns. */
interface FlowRecord {
  /** The derived eventId. */
  _id: string;
  agreementId: string;
  citizenIds: string[];
  derivedAt: Date;
  /** Its entry in the feed, where a redrive reads the value back; absent from older records. */
  feedSeq?: number;
}

export interface FeedStore {
  /** Appends an agreement's derivations, numbered after the last entry it holds. */
  append(agreementId: string, derivations: readonly Derivation[], at: Date): Promise<void>;
  /** Up to `limit` entries after `afterSeq`, in order. */
  read(agreementId: string, afterSeq: number, limit: number): Promise<FeedEntry[]>;
  /** The citizens a derived event's source concerns, read by `_id`, which the store serves from its index. */
  citizenIdsOf(eventId: string): Promise<string[]>;
  /** A derived event's feed entry, by its flow record then the entry's `_id`; null when not kept. */
  entryOf(eventId: string): Promise<FeedEntry | null>;
}

/** The derived value an entry holds. */
export function feedValue(entry: Pick<FeedEntry, 'value'>): DerivedValue {
  return JSON.parse(entry.value) as DerivedValue;
}

const idOf = (agreementId: string, seq: number): string => `${agreementId}:${String(seq).padStart(15, '0')}`;

/**
 * The feed in MongoDB. One writer per agreement: its one derivation, whose batches run one at a
 * time, numbers the entries; the next number is read once and then counted in memory. A batch
 * derived again after a crash is appended again, under new numbers and the same eventIds, which a
 * feed reader deduplicates as a webhook receiver does.
 */
export function createFeedStore(db: Db): FeedStore {
  const feed: Collection<FeedEntry> = db.collection<FeedEntry>(FEED_COLLECTION);
  const flows: Collection<FlowRecord> = db.collection<FlowRecord>(FLOWS_COLLECTION);
  const next = new Map<string, number>();
  const nextSeq = async (agreementId: string): Promise<number> => {
    const known = next.get(agreementId);
    if (known !== undefined) return known;
    const [last] = await feed
      .find({ _id: { $gte: idOf(agreementId, 0), $lte: idOf(agreementId, 999_999_999_999_999) } })
      .sort({ _id: -1 })
      .limit(1)
      .toArray();
    return (last?.seq ?? 0) + 1;
  };
  return {
    async append(agreementId, derivations, at) {
      if (derivations.length === 0) return;
      const first = await nextSeq(agreementId);
      // A write that failed part way left some entries: the next try numbers after them.
      next.delete(agreementId);
      const entries = derivations.map((d, i) => ({
        _id: idOf(agreementId, first + i),
        agreementId,
        seq: first + i,
        eventId: d.derived.value.eventId,
        key: d.target.key,
        value: JSON.stringify(d.derived.value),
        citizenIds: [...d.event.subjects.citizenIds],
        source: d.source,
        derivedAt: at,
      }));
      for (const chunk of statementChunks(entries)) await feed.insertMany(chunk, { ordered: true });
      next.set(agreementId, first + derivations.length);
      // A derivation repeated after a crash replaces its record with the same content.
      const replacements = derivations.map((d, i) => ({
        replaceOne: {
          filter: { _id: d.derived.value.eventId },
          replacement: {
            agreementId,
            citizenIds: [...d.event.subjects.citizenIds],
            derivedAt: at,
            feedSeq: first + i,
          },
          upsert: true,
        },
      }));
      for (const chunk of statementChunks(replacements)) await flows.bulkWrite(chunk, { ordered: false });
    },
    read(agreementId, afterSeq, limit) {
      return feed
        .find({ _id: { $gt: idOf(agreementId, afterSeq), $lte: idOf(agreementId, 999_999_999_999_999) } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
    },
    async citizenIdsOf(eventId) {
      return (await flows.findOne({ _id: eventId }))?.citizenIds ?? [];
    },
    async entryOf(eventId) {
      const flow = await flows.findOne({ _id: eventId });
      if (flow?.feedSeq === undefined) return null;
      return feed.findOne({ _id: idOf(flow.agreementId, flow.feedSeq) });
    },
  };
}

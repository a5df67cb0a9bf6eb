import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Kafka } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { type TopicName } from '../../schemas/topics';
import { type Clock, systemClock } from '../platform/clock';
import { VIEW_NAMES, type ViewName } from './projection';
import { createSharingService } from './sharing-service';
import { collectionHashes, compareHashes, type HashComparison } from './view-hash';
import { type CatalogEntry, readCatalog, VIEW_CATALOG } from './view-store';

/** Each rebuild reads in a consumer group of its own, named by this prefix (the ACLs grant it). */
export const REBUILD_GROUP_PREFIX = 'lienthong-rebuild-';
export interface RebuildOptions {
  kafka: Kafka;
  /** Connected by the caller. */
  mongo: MongoClient;
  dbName: string;
  registry: SchemaRegistry;
  logger: Logger;
  topics: Record<TopicName, string>;
  /** Compare only: the shadow is dropped and the live views stay. */
  dryRun: boolean;
  /** Called every second or so with how far the replay has come. */
  progress: (stage: string, done: number, total: number) => void;
  /** Names the generation and dates the swap; the system clock by default. */
  clock?: Clock;
}

export interface RebuildReport {
  generation: string;
  events: number;
  /** Per view: documents live and in the shadow, and the ids that differ. */
  comparison: Record<ViewName, HashComparison>;
  swapped: boolean;
}

/**
 * Rebuilds the views from the topics, beside the live ones, and swaps them in.
 *
 * 1. Replay every topic from the beginning, with a consumer group of its own, into shadow
 *    collections (`<view>__<generation>`), up to the end offsets taken at the start.
 * 2. Compare shadow and live: document counts, and each document's content hash.
 * 3. Swap: point the view catalog at the shadow collections. Until then lookups and the live
 *    consumer use the old collections; from the next batch on, the new ones.
 * 4. Catch up: replay on to the end offsets taken after the swap, so that events the live consumer
 *    applied to the old collections meanwhile reach the new ones too (applying an event twice is
 *    a no-op). Then drop the old collections.
 */
export async function rebuildViews(options: RebuildOptions): Promise<RebuildReport> {
  const { kafka, mongo, logger } = options;
  const clock = options.clock ?? systemClock;
  const db = mongo.db(options.dbName);
  const generation = `r${clock()}`;
  const shadow = Object.fromEntries(VIEW_NAMES.map((v) => [v, `${v}__${generation}`])) as Record<
    ViewName,
    string
  >;
  const groupId = `${REBUILD_GROUP_PREFIX}${generation}`;
  const topics = Object.values(options.topics);
  const admin = kafka.admin();
  await admin.connect();

  const ends = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic))
        out.set(`${topic}/${p.partition}`, Number(p.high));
    }
    return out;
  };
  const committed = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
      for (const p of partitions) out.set(`${topic}/${p.partition}`, Math.max(0, Number(p.offset)));
    }
    return out;
  };
  const replayUntil = async (stage: string, target: Map<string, number>): Promise<number> => {
    const total = [...target.values()].reduce((a, b) => a + b, 0);
    for (;;) {
      const done = await committed();
      const count = [...target].reduce((sum, [key, end]) => sum + Math.min(done.get(key) ?? 0, end), 0);
      options.progress(stage, count, total);
      if (count >= total) return total;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  };

  const replayer = createSharingService({
    kafka,
    mongo,
    dbName: options.dbName,
    registry: options.registry,
    logger: logger.child({ component: 'rebuild' }),
    groupId,
    topics: options.topics,
    deadLetterTopic: null,
    collections: shadow,
    batchSize: 500,
    concurrency: 6,
    host: '127.0.0.1',
    port: 0,
    // The caller owns the MongoDB client: closing it is not the replayer's business.
    ownsMongo: false,
    clock,
  });
  let swapped = false;
  try {
    await replayer.start();
    const events = await replayUntil('replay', await ends());

    const live = await readCatalog(db);
    const comparison = {} as Record<ViewName, HashComparison>;
    for (const view of VIEW_NAMES) {
      options.progress(`compare ${view}`, 0, 1);
      comparison[view] = compareHashes(
        await collectionHashes(db, live[view]),
        await collectionHashes(db, shadow[view]),
      );
    }

    if (!options.dryRun) {
      const catalog = db.collection<CatalogEntry>(VIEW_CATALOG);
      for (const view of VIEW_NAMES) {
        await catalog.updateOne(
          { _id: view },
          { $set: { collection: shadow[view], since: new Date(clock()) } },
          { upsert: true },
        );
      }
      swapped = true;
      await replayUntil('catch up', await ends());
    }
    await replayer.stop();
    const obsolete = swapped ? live : shadow;
    for (const view of VIEW_NAMES)
      await db
        .collection(obsolete[view])
        .drop()
        .catch(() => false);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return { generation, events, comparison, swapped };
  } finally {
    await replayer.stop();
    await admin.disconnect();
  }
}

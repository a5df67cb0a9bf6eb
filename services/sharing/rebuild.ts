import { createHash } from 'node:crypto';
import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Kafka } from 'kafkajs';
import { type Db, type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { type TopicName } from '../../schemas/topics';
import { type Clock, systemClock } from '../platform/clock';
import { committedOffsets, endOffsets } from '../platform/kafka';
import { type SharingGroup, sharingGroups } from './changes';
import { VIEW_NAMES, type ViewName } from './projection';
import { createSharingService } from './sharing-service';
import {
  CATALOG_READING_MS,
  claimGeneration,
  GENERATION_REASONS,
  type GenerationManifest,
  readGeneration,
  VIEW_GENERATIONS,
  type ViewGeneration,
} from './view-catalog';
import { collectionHashes, compareHashes, type HashComparison, viewDocHash } from './view-hash';
import { archiveOf, createViewStore } from './view-store';

/** Each rebuild reads in a consumer group of its own, named by this prefix (the ACLs grant it). */
export const REBUILD_GROUP_PREFIX = 'lienthong-rebuild-';

/** The named steps of a rebuild, in order; {@link RebuildOptions.onStep} hears each once it is done. */
export const REBUILD_STEPS = {
  /** The shadow holds the topics up to the end offsets taken at the start, checked against the replay. */
  REPLAYED: 'replayed',
  /** A fence generation stops the live consumer's writes; the end offsets are taken after it. */
  FENCED: 'fenced',
  /** The shadow holds those offsets too, its replay has stopped, and it is checked again. */
  CAUGHT_UP: 'caught-up',
  /** The swap generation is claimed: the shadow serves the views, and the live consumer writes it. */
  SWAPPED: 'swapped',
  /** The swap is verified, and the old generation's collections are dropped. */
  DROPPED: 'dropped',
} as const;
export type RebuildStep = (typeof REBUILD_STEPS)[keyof typeof REBUILD_STEPS];

/** How long a fence holds without its rebuild renewing it; renewed every third of that. */
export const FENCE_LEASE_MS = 30_000;

/** Over the live writers' reading time: Node's timers may fire a millisecond early. */
const READING_MARGIN_MS = 100;

/** How long the old generation may be read after the swap: lookups cache the catalog for 1 s. */
const DROP_GRACE_MS = 5_000;

export interface RebuildOptions {
  kafka: Kafka;
  /** Connected by the caller. */
  mongo: MongoClient;
  dbName: string;
  registry: SchemaRegistry;
  logger: Logger;
  topics: Record<TopicName, string>;
  /**
   * The live consumer's group. The old generation is dropped only once that group has committed
   * past the handover's offsets (or has no member): until then a round begun before the fence
   * may still be writing it.
   */
  liveGroupId: string;
  /**
   * The live service's internal topic of changes, when it routes through one: the old generation
   * is then dropped only once the live changes group (`changesGroupOf`) has also committed the
   * changes that were in it at the swap, since the first stage commits the domain offsets before
   * the changes are applied.
   */
  changesTopic?: string | null;
  /** Compare only: the shadow is dropped, and neither the catalog nor the live views change. */
  dryRun: boolean;
  /** Called every second or so with how far the replay has come. */
  progress: (stage: string, done: number, total: number) => void;
  /** Names the generation, dates the fence and the swap; the system clock by default. */
  clock?: Clock;
  /** {@link FENCE_LEASE_MS} by default. */
  fenceLeaseMs?: number;
  /** The live writers' {@link CATALOG_READING_MS}, waited out after the fence; that by default. */
  catalogReadingMs?: number;
  /** How long to wait for the live group before leaving the old generation to the next rebuild; 5 min. */
  liveWaitMs?: number;
  /** Called as each named step is done; tests stop the process there. */
  onStep?: (step: RebuildStep) => Promise<void> | void;
}

export interface RebuildReport {
  generation: string;
  events: number;
  /** Per view: documents live and in the shadow, and the ids that differ. */
  comparison: Record<ViewName, HashComparison>;
  swapped: boolean;
  /** The catalog generation the swap claimed; null in a dry run. */
  catalogGeneration: number | null;
  /** What the replay wrote into the new collections, as checked before the swap. */
  manifest: GenerationManifest;
  /** Collections dropped after the verified swap: the old generation's and older leftovers. */
  dropped: string[];
}

/** The shadow does not hold what the replay wrote: it is not swapped in. */
export class RebuildCheckError extends Error {
  override name = 'RebuildCheckError';
}

/**
 * Rebuilds the views from the topics, beside the live ones, and hands them over to the live
 * consumer. One writer per collection at any moment: the rebuild's replay writes the shadow until
 * it stops, the live consumer writes the generation in force (see `view-catalog.ts`).
 *
 * 1. Replay every topic from offset 0, with a consumer group of its own, into shadow collections
 *    (`<view>__<generation>`), up to the end offsets taken at the start. Compare with the live
 *    views (the drift report), and check the shadow against the replay's own account of what it
 *    wrote (every document, by content hash). A dry run drops the shadow here.
 * 2. Fence: claim the next catalog generation, same collections, fenced. A live writer uses a
 *    reading of the catalog for up to {@link CATALOG_READING_MS} from when it asked, so the
 *    rebuild waits that long; from then on the live consumer's rounds wait. One begun before
 *    holds only messages already below the end offsets, which are taken now.
 * 3. Catch up: replay on to those offsets, stop the replay, and check what the catch-up wrote.
 * 4. Swap: claim the next generation, the shadow's, unfenced. If a writer took that number first
 *    (the fence's lease ran out), nothing is swapped and the rebuild fails.
 * 5. Verify the swap (the catalog names the shadow, whose documents are all there), wait until no
 *    round can still be writing the old generation, and drop it with the leftovers of older runs.
 *
 * A crash before 4 leaves the old generation in force; its fence, no longer renewed, expires and
 * the live consumer takes the views back. A crash after 4 leaves the new one in force, written by
 * the live consumer from where it stood: everything below the fence offsets is in the shadow.
 */
export async function rebuildViews(options: RebuildOptions): Promise<RebuildReport> {
  const { kafka, mongo, logger } = options;
  const clock = options.clock ?? systemClock;
  const leaseMs = options.fenceLeaseMs ?? FENCE_LEASE_MS;
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

  const ends = () => endOffsets(admin, topics);
  const committed = () => committedOffsets(admin, groupId, topics);
  const replayUntil = async (stage: string, target: Map<string, number>): Promise<number> => {
    const total = [...target.values()].reduce((a, b) => a + b, 0);
    for (;;) {
      const done = await committed();
      const count = [...target].reduce((sum, [key, end]) => sum + Math.min(done.get(key) ?? 0, end), 0);
      options.progress(stage, count, total);
      if (count >= total) return total;
      await sleep(1_000);
    }
  };
  const step = async (name: RebuildStep): Promise<void> => {
    logger.info({ generation, step: name }, 'Rebuild step done');
    await options.onStep?.(name);
  };

  // The replay's account: each document's content hash as last acknowledged by the store, and the
  // ids written since the last check.
  const account = viewMaps<string>();
  let unchecked = viewSets();
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
    onViewsWritten: (view, docs) => {
      for (const doc of docs) {
        account[view].set(doc._id, viewDocHash(doc));
        unchecked[view].add(doc._id);
      }
    },
    batchSize: 500,
    concurrency: 6,
    host: '127.0.0.1',
    port: 0,
    // The caller owns the MongoDB client: closing it is not the replayer's business.
    ownsMongo: false,
    clock,
  });

  let fence: ViewGeneration | undefined;
  let renewal: NodeJS.Timeout | undefined;
  let swapped = false;
  try {
    await replayer.start();
    const events = await replayUntil('replay', await ends());

    // A dry run stops its replay here, so that its check covers every document. A rebuild's goes
    // on while the shadow is read; what it writes meanwhile is checked once it has stopped (step 3).
    if (options.dryRun) await replayer.stop();
    unchecked = viewSets();
    const live = await readGeneration(db);
    const comparison = {} as Record<ViewName, HashComparison>;
    const problems: string[] = [];
    for (const view of VIEW_NAMES) {
      options.progress(`compare ${view}`, 0, 1);
      const rebuilt = await collectionHashes(db, shadow[view]);
      comparison[view] = compareHashes(await collectionHashes(db, live.collections[view]), rebuilt);
      const settled = (ids: Iterable<[string, string]>) =>
        new Map([...ids].filter(([id]) => !unchecked[view].has(id)));
      problems.push(...accountProblems(view, settled(account[view]), settled(rebuilt)));
    }
    if (problems.length > 0) throw new RebuildCheckError(`The replay's check failed: ${problems.join('; ')}`);
    await step(REBUILD_STEPS.REPLAYED);

    if (options.dryRun) {
      await dropCollections(db, shadowCollections(shadow));
      await admin.deleteGroups([groupId]).catch(() => undefined);
      return {
        generation,
        events,
        comparison,
        swapped: false,
        catalogGeneration: null,
        manifest: manifestOf(account),
        dropped: [],
      };
    }

    fence = await raiseFence(db, generation, clock, leaseMs);
    const fenceId = fence._id;
    renewal = setInterval(() => {
      db.collection<ViewGeneration>(VIEW_GENERATIONS)
        .updateOne({ _id: fenceId }, { $set: { 'fence.until': new Date(Date.now() + leaseMs) } })
        .catch((err: unknown) => logger.warn({ err }, 'Renewing the fence failed'));
    }, leaseMs / 3);
    // Taken once no live round can begin on a reading of the catalog older than the fence: see step 2.
    await sleep((options.catalogReadingMs ?? CATALOG_READING_MS) + READING_MARGIN_MS);
    const handover = await ends();
    await step(REBUILD_STEPS.FENCED);

    await replayUntil('catch up', handover);
    // The shadow's one writer stops before anyone else may write it.
    await replayer.stop();
    const shadowStore = createViewStore(db, shadow);
    for (const view of VIEW_NAMES) {
      const found = await shadowStore.load(view, [...unchecked[view]]);
      const rebuilt = new Map([...found].map(([id, doc]) => [id, viewDocHash(doc)]));
      const written = new Map([...unchecked[view]].map((id) => [id, account[view].get(id) as string]));
      problems.push(...accountProblems(view, written, rebuilt));
      const documents = await db.collection(shadow[view]).countDocuments();
      if (documents !== account[view].size)
        problems.push(`${view}: ${documents} documents, the replay wrote ${account[view].size}`);
    }
    if (problems.length > 0) throw new RebuildCheckError(`The replay's check failed: ${problems.join('; ')}`);
    const manifest = manifestOf(account);
    await step(REBUILD_STEPS.CAUGHT_UP);

    clearInterval(renewal);
    const swap: ViewGeneration = {
      _id: fence._id + 1,
      collections: shadow,
      fence: null,
      reason: GENERATION_REASONS.SWAP,
      by: generation,
      at: new Date(clock()),
      manifest,
    };
    if (!(await claimGeneration(db, swap)))
      throw new Error(
        `Generation ${swap._id} was claimed before the swap (the fence's lease ran out): nothing was swapped`,
      );
    swapped = true;
    await step(REBUILD_STEPS.SWAPPED);

    const inForce = await readGeneration(db);
    for (const view of VIEW_NAMES) {
      if (inForce.collections[view] !== shadow[view])
        throw new RebuildCheckError(
          `The catalog names ${inForce.collections[view]} for ${view}, not the rebuilt one`,
        );
      // The live consumer only adds documents: fewer than the replay wrote means some were lost.
      const documents = await db.collection(shadow[view]).countDocuments();
      if (documents < manifest[view].documents)
        throw new RebuildCheckError(
          `${view}: ${documents} documents after the swap, ${manifest[view].documents} before`,
        );
    }
    let dropped: string[] = [];
    const changes = options.changesTopic ? [options.changesTopic] : [];
    const past = new Map([...handover, ...(await endOffsets(admin, changes))]);
    const liveGroups = sharingGroups(options.liveGroupId, topics, options.changesTopic ?? null);
    if (await liveGroupPast(admin, liveGroups, past, options.liveWaitMs ?? 300_000)) {
      await sleep(DROP_GRACE_MS);
      dropped = await dropObsolete(db, inForce, generation);
    } else {
      logger.warn(
        { liveGroupId: options.liveGroupId },
        'The live group has not committed past the handover: the old generation is left for the next rebuild',
      );
    }
    await step(REBUILD_STEPS.DROPPED);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return {
      generation,
      events,
      comparison,
      swapped,
      catalogGeneration: swap._id,
      manifest,
      dropped,
    };
  } catch (err) {
    clearInterval(renewal);
    if (fence && !swapped) await liftFence(db, fence, generation, clock).catch(() => undefined);
    if (!swapped) {
      await replayer.stop();
      await dropCollections(db, shadowCollections(shadow)).catch(() => undefined);
    }
    throw err;
  } finally {
    clearInterval(renewal);
    await replayer.stop();
    await admin.disconnect();
  }
}

/** Claims the next generation, fenced, over the collections in force; refuses to fence a fence. */
async function raiseFence(db: Db, rebuild: string, clock: Clock, leaseMs: number): Promise<ViewGeneration> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const current = await readGeneration(db);
    if (current.fence !== null && current.fence.until.getTime() > Date.now())
      throw new Error(`Rebuild ${current.fence.rebuild} is handing the views over; try again later`);
    const fence: ViewGeneration = {
      _id: current._id + 1,
      collections: current.collections,
      // A lease is elapsed time, which the bus clock (shifted or pinned) must not stretch.
      fence: { rebuild, until: new Date(Date.now() + leaseMs) },
      reason: GENERATION_REASONS.FENCE,
      by: rebuild,
      at: new Date(clock()),
    };
    if (await claimGeneration(db, fence)) return fence;
  }
  throw new Error('The view catalog kept changing: no fence was raised');
}

/** Gives the fenced collections back to the live consumer, if the fence is still in force. */
async function liftFence(db: Db, fence: ViewGeneration, rebuild: string, clock: Clock): Promise<void> {
  if ((await readGeneration(db))._id !== fence._id) return;
  await claimGeneration(db, {
    _id: fence._id + 1,
    collections: fence.collections,
    fence: null,
    reason: GENERATION_REASONS.FENCE_LIFTED,
    by: rebuild,
    at: new Date(clock()),
  });
}

/**
 * Whether each of the live groups (the domain topics' and the changes topic's) has committed every
 * partition of its topics up to `handover`, or has no member, within `waitMs`. Either way no round
 * of the old generation is still being written: a round writes only messages below the handover
 * offsets, and commits after its writes.
 */
async function liveGroupPast(
  admin: Admin,
  groups: readonly SharingGroup[],
  handover: Map<string, number>,
  waitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let past = true;
    for (const { groupId, topics } of groups) {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (!group || group.state === 'Empty' || group.state === 'Dead') continue;
      const done = await committedOffsets(admin, groupId, topics);
      const mine = [...handover].filter(([key]) => topics.includes(key.slice(0, key.lastIndexOf('/'))));
      past &&= mine.every(([key, end]) => (done.get(key) ?? 0) >= end);
    }
    if (past) return true;
    if (Date.now() > deadline) return false;
    await sleep(1_000);
  }
}

/**
 * Drops every view collection (and its archive) that the generation in force does not name: the
 * old generation, and what crashed or dry runs left, but never a shadow newer than this rebuild's.
 */
async function dropObsolete(db: Db, inForce: ViewGeneration, rebuild: string): Promise<string[]> {
  const keep = new Set(Object.values(inForce.collections).flatMap((c) => [c, archiveOf(c)]));
  const ours = Number(rebuild.slice(1));
  const obsolete: string[] = [];
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const match = /^([a-z]+)(?:__r(\d+))?(?:_archive)?$/.exec(name);
    if (!match || !(VIEW_NAMES as readonly string[]).includes(match[1] as string) || keep.has(name)) continue;
    if (match[2] !== undefined && Number(match[2]) > ours) continue;
    obsolete.push(name);
  }
  await dropCollections(db, obsolete);
  return obsolete.sort();
}

async function dropCollections(db: Db, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await db
      .collection(name)
      .drop()
      .catch(() => false);
  }
}

const shadowCollections = (shadow: Record<ViewName, string>): string[] =>
  Object.values(shadow).flatMap((c) => [c, archiveOf(c)]);

/** What differs between the replay's account of some documents and the store's, per id. */
function accountProblems(
  view: ViewName,
  written: Map<string, string>,
  stored: Map<string, string>,
): string[] {
  const c = compareHashes(written, stored);
  const problems: string[] = [];
  if (c.onlyLeft.length > 0) problems.push(`${view}: ${c.onlyLeft.length} written documents missing`);
  if (c.onlyRight.length > 0)
    problems.push(`${view}: ${c.onlyRight.length} documents the replay never wrote`);
  if (c.different.length > 0)
    problems.push(`${view}: ${c.different.length} documents differ from what was written`);
  return problems;
}

/** Per view: how many documents, and a SHA-256 over their ids and content hashes in id order. */
function manifestOf(account: Record<ViewName, Map<string, string>>): GenerationManifest {
  const out = {} as GenerationManifest;
  for (const view of VIEW_NAMES) {
    const digest = createHash('sha256');
    for (const id of [...account[view].keys()].sort()) digest.update(`${id} ${account[view].get(id)}\n`);
    out[view] = { documents: account[view].size, digest: digest.digest('hex') };
  }
  return out;
}

function viewMaps<T>(): Record<ViewName, Map<string, T>> {
  return { citizens: new Map(), enterprises: new Map(), vehicles: new Map(), dossiers: new Map() };
}

function viewSets(): Record<ViewName, Set<string>> {
  return { citizens: new Set(), enterprises: new Set(), vehicles: new Set(), dossiers: new Set() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { type Logger } from 'pino';
import { type Clock, systemClock } from './clock';

const DUPLICATE_KEY = 11000;

/** A claim of one term: `<name>@<term>`, inserted once; the unique `_id` makes its first writer the holder. */
interface TermDoc {
  _id: string;
  holder: string;
  at: Date;
}

export interface TermLease {
  /** Claims the current term, and the next one near its end; call every `termMs / 6` or so. */
  renew(): Promise<void>;
  /** Whether this instance holds the current term, as its clock reads it. */
  held(): boolean;
  /** Starts renewing on a timer. */
  start(): Promise<void>;
  /** Stops renewing and gives up the terms held, so that another instance takes the lease at once. */
  release(): Promise<void>;
}

/**
 * A lease that one instance of several holds at a time, for work that any of them can do but that
 * is wasted when two do it at once. Time is cut into terms of `termMs`; a term is held by whoever
 * inserts its document first, which the store decides by the unique `_id` alone: no document is
 * ever updated, so the lease holds on FerretDB, whose updates are read and rewrite. The holder
 * claims the next term in the last third of its own, so that it keeps the lease while it lives;
 * when it dies, another instance claims the term after the one it held, within two terms; when it
 * stops, it deletes its terms and another claims the current one at its next renewal.
 *
 * Instances whose clocks disagree by more than a third of a term may each think they hold it: the
 * work guarded must stay correct when done twice, the lease only spares the cost.
 */
export function createTermLease(deps: {
  db: Db;
  collection: string;
  /** What is leased, such as the audit topic's name. */
  name: string;
  termMs: number;
  logger: Logger;
  clock?: Clock;
}): TermLease {
  const clock = deps.clock ?? systemClock;
  const terms: Collection<TermDoc> = deps.db.collection<TermDoc>(deps.collection);
  const holder = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const mine = new Set<number>();
  let timer: NodeJS.Timeout | undefined;

  const termOf = (ms: number): number => Math.floor(ms / deps.termMs);

  const claim = async (term: number): Promise<void> => {
    if (mine.has(term)) return;
    try {
      await terms.insertOne({ _id: `${deps.name}@${term}`, holder, at: new Date(clock()) });
      mine.add(term);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      // Another instance's term; a claim this instance made before and lost track of counts too.
      const doc = await terms.findOne({ _id: `${deps.name}@${term}` });
      if (doc?.holder === holder) mine.add(term);
    }
  };

  const held = (): boolean => mine.has(termOf(clock()));

  const renew = async (): Promise<void> => {
    const now = clock();
    const current = termOf(now);
    await claim(current);
    // The next term, a third before it begins, only by the holder of this one.
    if (mine.has(current) && now - current * deps.termMs >= (2 * deps.termMs) / 3) await claim(current + 1);
    for (const term of mine) if (term < current) mine.delete(term);
  };

  return {
    renew,
    held,
    async start() {
      await renew();
      timer = setInterval(
        () => {
          renew().catch((err: unknown) =>
            deps.logger.warn({ err, lease: deps.name }, 'Renewing a lease failed'),
          );
        },
        Math.max(1, Math.floor(deps.termMs / 6)),
      );
      timer.unref();
    },
    async release() {
      clearInterval(timer);
      const held = [...mine];
      mine.clear();
      // One delete by `_id` each, which FerretDB serves from its index; only this holder's.
      for (const term of held) await terms.deleteOne({ _id: `${deps.name}@${term}`, holder });
    },
  };
}

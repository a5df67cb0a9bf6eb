import { type Logger } from 'pino';
import { type Clock } from '../platform/clock';
import { type AuditEntry } from './audit-chain';
import { type AuditTrail } from './audit-trail';

const MINUTE_MS = 60_000;

/** How many requests of one client, to one route, in one minute, were refused for their rate. */
export interface FloodCount {
  /** The client's address, as the connection gives it. */
  client: string;
  /** The start of the minute, UTC. */
  minute: Date;
  count: number;
}

/** An aggregate audit record: one line for every refusal of its kind in its minute. */
export type FloodEntry = AuditEntry & { flood: FloodCount };

export interface FloodLog {
  /** Counts a refusal past a rate limit; it is written with the others of its minute. */
  count(entry: AuditEntry, client: string): void;
  /** Writes the minutes that have ended, or every count with `all` (at shutdown). */
  flush(all?: boolean): Promise<void>;
  /** Stops the timer and writes every count. */
  close(): Promise<void>;
}

export interface FloodLogDeps {
  trail: Pick<AuditTrail, 'append'>;
  logger: Logger;
  clock: Clock;
  /** How often ended minutes are written. */
  flushEveryMs: number;
}

/**
 * Aggregates the requests refused past a rate limit into one audit record per client, route,
 * actor, reason and minute, so that a flood costs the trail a few records a minute rather than
 * one a request.
 *
 * The refusal is answered before its count is written: it carries no data, so "audit before
 * answer" is kept for everything that does. Counts not yet written are lost if the process dies;
 * that is at most `flushEveryMs` plus a minute of refusals, never an allowed answer.
 */
export function createFloodLog(deps: FloodLogDeps): FloodLog {
  const counts = new Map<string, FloodEntry>();
  const timer = setInterval(() => void flush(false), deps.flushEveryMs);
  timer.unref();

  const flush = async (all: boolean): Promise<void> => {
    const current = Math.floor(deps.clock() / MINUTE_MS) * MINUTE_MS;
    const due = [...counts].filter(([, e]) => all || e.flood.minute.getTime() < current);
    for (const [key] of due) counts.delete(key);
    await Promise.all(
      due.map(async ([key, entry]) => {
        try {
          await deps.trail.append(entry);
        } catch (err) {
          // Kept for the next flush, merged with what came meanwhile.
          const later = counts.get(key);
          if (later) later.flood.count += entry.flood.count;
          else counts.set(key, entry);
          deps.logger.warn({ err, route: entry.action }, 'A flood count could not be audited; retrying');
        }
      }),
    );
  };

  return {
    count(entry, client) {
      const minute = new Date(Math.floor(deps.clock() / MINUTE_MS) * MINUTE_MS);
      const key = [minute.getTime(), client, entry.action, entry.actor?.id ?? '', entry.reason].join('|');
      const known = counts.get(key);
      if (known) {
        known.flood.count += 1;
        return;
      }
      // What a route learned (subject, dossier) is not kept: the aggregate is about the traffic.
      counts.set(key, {
        ...entry,
        subject: null,
        dossierId: null,
        procedureCode: null,
        fields: [],
        sources: [],
        traceId: null,
        flood: { client, minute, count: 1 },
      });
    },
    flush: (all = false) => flush(all),
    async close() {
      clearInterval(timer);
      await flush(true);
    },
  };
}

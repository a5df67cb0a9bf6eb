import { type Logger } from 'pino';

/**
 * The bus's time, in epoch milliseconds: what every date check, reception time, token and audit
 * record reads. Factories take it as a dependency, so that tests pin it (at night in Hà Nội, across
 * midnight) and a process can be given a shifted one. Timeouts, retry delays and cache ages measure
 * elapsed time and stay on `Date.now()` or timers: a pinned clock would never let them run out.
 */
export type Clock = () => number;

/**
 * Hà Nội's offset from UTC: +07:00 all year, with no daylight saving time. The bus reads its
 * calendar days, hours and months there: undated times, desk dossiers, audit flow periods.
 */
export const HANOI_UTC_OFFSET_MS = 7 * 3_600_000;

/** The machine's own time. */
export const systemClock: Clock = () => Date.now();

/**
 * The system time plus `offsetMs`, which may be negative: the clock `LIENTHONG_CLOCK_OFFSET_MS`
 * gives a process. An offset rather than a start instant, so that every process started from one
 * environment (the processes of `npm start` inherit it) reads the same time, whenever each starts.
 * A shifted clock is logged once as a warning, since a production bus must run on the real time.
 */
export function offsetClock(offsetMs: number, logger?: Logger): Clock {
  if (offsetMs === 0) return systemClock;
  logger?.warn(
    { clockOffsetMs: offsetMs, clock: new Date(Date.now() + offsetMs).toISOString() },
    'The clock is shifted from the system time by LIENTHONG_CLOCK_OFFSET_MS',
  );
  return () => Date.now() + offsetMs;
}

import { build, type Histogram } from 'hdr-histogram-js';
import { Pool } from 'undici';

/** One request the load sends: a GET of `path` with `headers`, and how to tell its right answer. */
export interface LoadTarget {
  path: string;
  headers: Record<string, string>;
  /** A POST of this body instead of a GET (the connectors' `/v1/records`). */
  body?: string;
  /** Whether a 200 answer, with its headers and body, is the one this request must get. */
  check(headers: Record<string, string | string[] | undefined>, body: string): boolean;
}

/** What the load did in one second of its schedule, for a progress line. */
export interface LoadSecond {
  second: number;
  sent: number;
  answered: number;
  ok: number;
  notOk: number;
  errors: number;
  dropped: number;
  /** Requests sent and not answered yet, queued in the pool or on the wire. */
  outstanding: number;
  /** Latency from the scheduled send, of the answers in this second, in ms. */
  p99Ms: number;
  maxLagMs: number;
}

export interface OpenLoopOptions {
  /** The service's origin, `http://host:port`. */
  origin: string;
  /** Connections of the client pool; a request due while all are busy waits in the pool. */
  connections: number;
  /** Requests per second, on a fixed schedule. */
  rate: number;
  seconds: number;
  /** Sent in turn, the i-th scheduled request taking `targets[i % length]`. */
  targets: readonly LoadTarget[];
  /**
   * Most requests outstanding at once. A request due while this many are is not sent and counted
   * as dropped, so a stalled service shows up as drops instead of unbounded memory.
   */
  maxOutstanding: number;
  /**
   * How long, after the last send, the answers still outstanding are waited for. Then the pool is
   * destroyed, so that a backlog does not go on loading the service during the next phase.
   */
  drainMs: number;
  onSecond?: (second: LoadSecond) => void;
}

export interface OpenLoopResult {
  rate: number;
  seconds: number;
  scheduled: number;
  sent: number;
  dropped: number;
  answered: number;
  /** 200 answers whose body or headers were not the expected ones. */
  wrong: number;
  /** Sent and still not answered when the drain time ran out. */
  unanswered: number;
  /** Answers by status code. */
  statuses: Map<number, number>;
  /** Requests that failed without an answer, by error code. */
  errors: Map<string, number>;
  /** From the scheduled send to the end of the answer, µs: what an officer would wait. */
  latency: Histogram;
  /** From the actual send to the end of the answer, µs: without the client's own delays. */
  serviceTime: Histogram;
  /** From the scheduled send to the actual send, µs: how well the generator kept its schedule. */
  lag: Histogram;
  /** From the first scheduled send to the last answer, s. */
  elapsed: number;
  /** From the first scheduled send to the last send, s. */
  sendElapsed: number;
}

/** A histogram of microseconds, from 1 µs to an hour, three significant digits. */
export function microsHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
}

/** Milliseconds as the whole microseconds a histogram records, at least 1. */
export const micros = (ms: number): number => Math.max(1, Math.round(ms * 1_000));

/**
 * Calls `send(i, due)` for `i` from 0 to `count - 1`, the i-th due `i × 1000 / rate` ms after a
 * moment from now, whether or not the earlier sends are done (open loop). `due` is on
 * `performance.now()`'s clock, for a latency counted from the schedule. Resolves with the first
 * due time once the last send has been called.
 */
export async function onSchedule(
  rate: number,
  count: number,
  send: (i: number, due: number) => void,
): Promise<number> {
  const interval = 1_000 / rate;
  // The first send a moment ahead, so that the first tick is not already late.
  const start = performance.now() + 20;
  // Each tick sends every request that is due by now, then sleeps until the next one is. Timers
  // fire with ~1 ms granularity, so at 2,000/s a tick sends two or three; the delay this adds is
  // counted in the latency and reported as lag.
  await new Promise<void>((done) => {
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      while (next < count && start + next * interval <= now) {
        send(next, start + next * interval);
        next += 1;
      }
      if (next >= count) {
        done();
        return;
      }
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  return start;
}

/**
 * Sends `rate × seconds` requests (GETs, or POSTs of each target's `body`) on a fixed schedule,
 * whether or not earlier ones were answered
 * (open loop), and measures each latency from the time it was scheduled, so that a slow answer
 * is not hidden by the requests it delayed (coordinated omission).
 *
 * @see https://github.com/giltene/wrk2 (constant throughput, latency from the intended send time)
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, seconds, targets } = options;
  const pool = new Pool(options.origin, { connections: options.connections });
  const scheduled = Math.max(1, Math.round(rate * seconds));
  const result: OpenLoopResult = {
    rate,
    seconds,
    scheduled,
    sent: 0,
    dropped: 0,
    answered: 0,
    wrong: 0,
    unanswered: 0,
    statuses: new Map(),
    errors: new Map(),
    latency: microsHistogram(),
    serviceTime: microsHistogram(),
    lag: microsHistogram(),
    elapsed: 0,
    sendElapsed: 0,
  };
  const perSecond = microsHistogram();
  const count = (map: Map<string | number, number>, key: string | number) =>
    map.set(key, (map.get(key) ?? 0) + 1);
  let outstanding = 0;
  let lastAnswer = 0;
  let lastSend = 0;
  let maxLag = 0;
  let failures = 0;
  let oks = 0;
  // Answers after the drain time belong to no phase: they are counted as unanswered instead.
  let closed = false;
  let drained: (() => void) | undefined;

  const send = (i: number, due: number): void => {
    if (outstanding >= options.maxOutstanding) {
      result.dropped += 1;
      return;
    }
    const target = targets[i % targets.length] as LoadTarget;
    const sentAt = performance.now();
    const lag = sentAt - due;
    result.lag.recordValue(micros(lag));
    maxLag = Math.max(maxLag, lag);
    lastSend = sentAt;
    result.sent += 1;
    outstanding += 1;
    pool
      .request(
        target.body === undefined
          ? { path: target.path, method: 'GET', headers: target.headers }
          : { path: target.path, method: 'POST', headers: target.headers, body: target.body },
      )
      .then(async ({ statusCode, headers, body }) => {
        const text = await body.text();
        if (closed) return;
        const end = performance.now();
        lastAnswer = end;
        result.answered += 1;
        result.latency.recordValue(micros(end - due));
        result.serviceTime.recordValue(micros(end - sentAt));
        perSecond.recordValue(micros(end - due));
        count(result.statuses, statusCode);
        if (statusCode === 200) {
          oks += 1;
          if (!target.check(headers, text)) result.wrong += 1;
        }
      })
      .catch((err: unknown) => {
        if (closed) return;
        failures += 1;
        const code = (err as { code?: unknown }).code;
        count(result.errors, typeof code === 'string' ? code : (err as Error).name);
      })
      .finally(() => {
        outstanding -= 1;
        if (outstanding === 0) drained?.();
      });
  };

  let second = 0;
  let at = { sent: 0, answered: 0, ok: 0, errors: 0, dropped: 0 };
  const progress = setInterval(() => {
    second += 1;
    options.onSecond?.({
      second,
      sent: result.sent - at.sent,
      answered: result.answered - at.answered,
      ok: oks - at.ok,
      notOk: result.answered - at.answered - (oks - at.ok),
      errors: failures - at.errors,
      dropped: result.dropped - at.dropped,
      outstanding,
      p99Ms: perSecond.totalCount > 0 ? perSecond.getValueAtPercentile(99) / 1_000 : 0,
      maxLagMs: maxLag,
    });
    at = { sent: result.sent, answered: result.answered, ok: oks, errors: failures, dropped: result.dropped };
    perSecond.reset();
    maxLag = 0;
  }, 1_000);

  const start = await onSchedule(rate, scheduled, send);
  clearInterval(progress);
  result.sendElapsed = (lastSend - start) / 1_000;

  if (outstanding > 0) {
    await new Promise<void>((done) => {
      drained = done;
      setTimeout(done, options.drainMs);
    });
  }
  closed = true;
  result.unanswered = outstanding;
  if (outstanding > 0) await pool.destroy();
  else await pool.close();
  result.elapsed = (Math.max(lastAnswer, lastSend) - start) / 1_000;
  perSecond.destroy();
  return result;
}

/**
 * The `p`-th percentile of latency, µs, over every scheduled request, counting each one that got
 * no answer (dropped, failed or still outstanding) as slower than any answer; undefined when the
 * percentile falls among those.
 */
export function percentileOfScheduled(
  result: Pick<OpenLoopResult, 'scheduled' | 'answered' | 'latency'>,
  p: number,
): number | undefined {
  const rank = Math.ceil((p / 100) * result.scheduled);
  if (rank > result.answered) return undefined;
  return Math.min(
    result.latency.getValueAtPercentile((100 * rank) / result.answered),
    result.latency.maxValue,
  );
}

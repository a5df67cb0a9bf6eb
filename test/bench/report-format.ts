import { writeFileSync } from 'node:fs';

/**
 * What a benchmark hands to the combined report (`npm run bench`, test/bench/report.ts), next to
 * the table it prints for people: when this variable names a file, the bench writes its
 * {@link BenchResult} there as JSON once its figures are in.
 */
export const BENCH_JSON_ENV = 'LIENTHONG_BENCH_JSON';

/** One measured figure, and the target DESIGN.md sets for it, if any. */
export interface BenchFigure {
  name: string;
  /** null when the run could not measure it, e.g. a percentile that falls among unanswered requests. */
  value: number | null;
  unit: string;
  /** The target as DESIGN.md words it; absent when the figure has none. */
  target?: string;
  /** Whether the target is met; null when there is no target or no value. */
  met: boolean | null;
  /** Shown after the value, or instead of it when there is none: why, or what qualifies it. */
  detail?: string;
}

/** CPU and memory of one process of the run, read from /proc (see process-usage.ts). */
export interface ProcessFigure {
  /** What the process is: a service, the bench itself, a stack component. */
  name: string;
  pid: number;
  /** User and system CPU time over `wallSeconds`, s. */
  cpuSeconds: number;
  /** How long the process had run when it was read, or the span measured, s. */
  wallSeconds: number;
  /** cpuSeconds over wallSeconds, in % of one core. */
  cpuPercent: number;
  /** Peak resident memory (VmHWM), MiB; null when /proc could not be read. */
  peakRssMiB: number | null;
  /** Resident memory when it was read (VmRSS), MiB. */
  rssMiB: number | null;
  note?: string;
}

export interface BenchResult {
  bench: string;
  mode: 'quick' | 'full';
  /** Sizes, rates and durations of the run. */
  parameters: Record<string, number | string>;
  figures: BenchFigure[];
  processes: ProcessFigure[];
  /** Anything a reader needs to weigh the figures: errors, probes never seen, services that ended. */
  notes: string[];
}

/** A target as a bound on the value, with its wording from DESIGN.md. */
export interface Goal {
  target: string;
  met(value: number): boolean;
}

export const atLeast = (bound: number, target: string): Goal => ({ target, met: (v) => v >= bound });
export const atMost = (bound: number, target: string): Goal => ({ target, met: (v) => v <= bound });

/** A figure, checked against `goal` when it has one; values keep two decimals at most. */
export function figure(
  name: string,
  value: number | null,
  unit: string,
  goal?: Goal,
  detail?: string,
): BenchFigure {
  const v = value === null || !Number.isFinite(value) ? null : Math.round(value * 100) / 100;
  return {
    name,
    value: v,
    unit,
    ...(goal ? { target: goal.target } : {}),
    met: goal && v !== null ? goal.met(v) : null,
    ...(detail ? { detail } : {}),
  };
}

/** Writes `result` to the file {@link BENCH_JSON_ENV} names; does nothing when it is not set. */
export function writeBenchResult(result: BenchResult, env: NodeJS.ProcessEnv = process.env): void {
  const path = env[BENCH_JSON_ENV];
  if (path) writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

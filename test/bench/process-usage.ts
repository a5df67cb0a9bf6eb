/**
 * CPU and memory of processes, read from Linux's /proc: what a bench reports about the services it
 * runs, itself and the machine, which may be shared.
 *
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html (fields of /proc/<pid>/stat)
 * @see https://docs.kernel.org/scheduler/sched-stats.html (/proc/<pid>/schedstat)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { type ProcessFigure } from './report-format';

const ROOT = resolve(__dirname, '..', '..');
/** Clock ticks a second of /proc's CPU times (USER_HZ), 100 on every Linux that Node runs on. */
const HZ = 100;
const MiB = (kb: number): number => Math.round(kb / 1_024);

/** Fields of /proc/<pid>/stat after the command name, so that index 0 is field 3 (state). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Peak and current resident memory of a process, MiB, from /proc. */
export function memoryOf(pid: number): { peak: number; now: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { peak: MiB(kb('VmHWM')), now: MiB(kb('VmRSS')) };
  } catch {
    return undefined;
  }
}

/** A process and all its descendants, parents first (a tsx CLI runs its script in a child). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i += 1) {
    const parent = out[i] as number;
    try {
      for (const task of readdirSync(`/proc/${parent}/task`)) {
        const listed = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
        for (const child of listed.trim().split(/\s+/).filter(Boolean)) out.push(Number(child));
      }
    } catch {
      // ended meanwhile, or no children listed
    }
  }
  return out;
}

/**
 * CPU time and memory of `pid` (and, with `tree`, its descendants) since it started: CPU summed,
 * memory of the largest process, the lifetime of `pid`'s own.
 */
export function usageOf(
  name: string,
  pid: number,
  options: { tree?: boolean; note?: string } = {},
): ProcessFigure {
  const pids = options.tree ? processTree(pid) : [pid];
  let cpuSeconds = 0;
  let wallSeconds = 0;
  try {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    for (const p of pids) {
      const fields = statFields(readFileSync(`/proc/${p}/stat`, 'utf8'));
      cpuSeconds += (Number(fields[11]) + Number(fields[12])) / HZ;
      if (p === pid) wallSeconds = uptime - Number(fields[19]) / HZ;
    }
  } catch {
    // ended meanwhile: what was read so far
  }
  const memory = pids.map(memoryOf).filter((m) => m !== undefined);
  return {
    name,
    pid,
    cpuSeconds: round(cpuSeconds),
    wallSeconds: round(wallSeconds),
    cpuPercent: wallSeconds > 0 ? Math.round((100 * cpuSeconds) / wallSeconds) : 0,
    peakRssMiB: memory.length > 0 ? Math.max(...memory.map((m) => m.peak)) : null,
    rssMiB: memory.length > 0 ? Math.max(...memory.map((m) => m.now)) : null,
    ...(options.note ? { note: options.note } : {}),
  };
}

/** The calling process's own CPU and memory since it started. */
export function ownUsage(name: string, note?: string): ProcessFigure {
  const { user, system } = process.cpuUsage();
  const cpuSeconds = (user + system) / 1e6;
  const wallSeconds = process.uptime();
  const memory = memoryOf(process.pid);
  return {
    name,
    pid: process.pid,
    cpuSeconds: round(cpuSeconds),
    wallSeconds: round(wallSeconds),
    cpuPercent: Math.round((100 * cpuSeconds) / wallSeconds),
    peakRssMiB: memory?.peak ?? MiB(process.resourceUsage().maxRSS),
    rssMiB: memory?.now ?? MiB(process.memoryUsage().rss / 1_024),
    ...(note ? { note } : {}),
  };
}

const round = (v: number): number => Math.round(v * 100) / 100;

/** A short name for a process: the script a Node process runs, `kafka`, or the command. */
export function processName(pid: number, stat: string): string {
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  let args: string[] = [];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    // ended meanwhile
  }
  if (comm === 'java' && args.some((a) => a.includes('kafka'))) return 'kafka';
  const listen = args[args.indexOf('--listen-addr') + 1];
  if (comm.startsWith('lienthong-ferre')) return `ferretdb ${listen ?? ''}`.trim();
  if (comm !== 'node' && comm !== 'MainThread') return comm;
  const script = args.slice(1).find((a) => !a.startsWith('-') && !a.includes('node_modules/tsx/'));
  return script ? `node ${relative(ROOT, script)}` : 'node';
}

/** CPU time of every process so far, in ticks (USER_HZ, 100 a second), by pid. */
export function processTicks(): Map<number, { stat: string; ticks: number }> {
  const out = new Map<number, { stat: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = statFields(stat);
      out.set(Number(entry), { stat, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** The machine's busy and total CPU time so far, in ticks, from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total };
}

/**
 * Seconds the threads of `pid` have waited on a run queue for a core so far, from each thread's
 * /proc/<pid>/task/<tid>/schedstat (the second field, ns). Threads that ended are not counted.
 */
export function runQueueSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[1] ?? 0);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process ended, or the kernel keeps no schedstats
  }
  return ns / 1e9;
}

/**
 * Seconds the main thread of `pid` has run so far (in Node, the thread that runs JavaScript):
 * the first field of /proc/<pid>/task/<pid>/schedstat, ns; 0 once the process ended.
 */
export function mainThreadSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0] ?? 0) / 1e9;
  } catch {
    return 0;
  }
}

export interface CpuUse {
  summary: string;
  /** CPU seconds the processes of this name used. */
  seconds(name: string): number;
  /**
   * Seconds the threads of our processes of this name waited for a core, summed over threads
   * (so it may pass the span): time they were ready to run while the machine ran something else.
   */
  waitedSeconds(name: string): number;
  /** {@link seconds} over the span: % of one core. */
  percentOfCore(name: string): number;
  /** {@link waitedSeconds} over the span, %. */
  waitedPercent(name: string): number;
  /**
   * The busiest main thread among our processes of this name over the span, % of one core: near
   * 100 % for a Node process, its one JavaScript thread is what bounds it.
   */
  mainThreadPercent(name: string): number;
  /** How busy the whole machine was, % of all its cores. */
  machineBusyPercent: number;
  /** The span measured, s. */
  wallSeconds: number;
}

/**
 * Where the CPU went between the call and the returned function's: the busiest processes (ours
 * by role, the others by name, since the machine is shared) in % of one core, and the machine.
 */
export function cpuMeter(ours: Record<number, string>): () => CpuUse {
  const pids = Object.keys(ours).map(Number);
  const waits = () => new Map(pids.map((pid) => [pid, runQueueSeconds(pid)]));
  const mains = () => new Map(pids.map((pid) => [pid, mainThreadSeconds(pid)]));
  const sample = () => ({
    at: performance.now(),
    procs: processTicks(),
    machine: machineTicks(),
    waits: waits(),
    mains: mains(),
  });
  const from = sample();
  return () => {
    const to = sample();
    const waited = new Map<string, number>();
    const main = new Map<string, number>();
    for (const pid of pids) {
      const name = ours[pid] as string;
      const more = (at: typeof to.waits, since: typeof from.waits) =>
        Math.max(0, (at.get(pid) ?? 0) - (since.get(pid) ?? 0));
      waited.set(name, (waited.get(name) ?? 0) + more(to.waits, from.waits));
      main.set(name, Math.max(main.get(name) ?? 0, more(to.mains, from.mains)));
    }
    const seconds = (to.at - from.at) / 1_000;
    const byName = new Map<string, number>();
    for (const [pid, { stat, ticks }] of to.procs) {
      const used = ticks - (from.procs.get(pid)?.ticks ?? 0);
      if (used <= 0) continue;
      const name = ours[pid] ?? processName(pid, stat);
      byName.set(name, (byName.get(name) ?? 0) + used / HZ);
    }
    const busiest = [...byName]
      .map(([name, cpu]) => ({ name, pct: Math.round((100 * cpu) / seconds) }))
      .filter((p) => p.pct >= 2)
      .sort((a, b) => b.pct - a.pct)
      .slice(0, 7)
      .map((p) => `${p.name} ${p.pct}%`);
    const busy = to.machine.busy - from.machine.busy;
    const total = Math.max(1, to.machine.total - from.machine.total);
    const machineBusyPercent = Math.round((100 * busy) / total);
    return {
      summary: `machine ${machineBusyPercent}% busy; ${busiest.join(', ')} (% of a core)`,
      seconds: (name) => byName.get(name) ?? 0,
      waitedSeconds: (name) => waited.get(name) ?? 0,
      percentOfCore: (name) => (100 * (byName.get(name) ?? 0)) / seconds,
      waitedPercent: (name) => (100 * (waited.get(name) ?? 0)) / seconds,
      mainThreadPercent: (name) => (100 * (main.get(name) ?? 0)) / seconds,
      machineBusyPercent,
      wallSeconds: seconds,
    };
  };
}

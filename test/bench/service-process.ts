/**
 * A bus service run by a benchmark as a Node process of its own, as it is deployed: compiled
 * (`node dist/…js`) unless told otherwise (deploy/local/service-entry.ts), its warnings and errors
 * passed to the bench's stderr and counted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { entryArgs, type RunMode } from '../../deploy/local/service-entry';
import { freePort } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface ServiceLogs {
  warn: number;
  error: number;
  samples: string[];
}

export interface ServiceProcess {
  name: string;
  url: string;
  pid: number;
  /** How it ended, when it ended without being asked to. */
  crashed(): string | undefined;
  /** Its log lines at warn and above, by level, and the first few of them. */
  readonly logs: ServiceLogs;
  /** Starts counting the log lines afresh, and returns the ones counted so far. */
  newLogs(): ServiceLogs;
  stop(): Promise<void>;
}

/**
 * node's options that profile a service (`--cpu-prof`) into LIENTHONG_BENCH_CPU_PROF=<dir>, when
 * set: the profile is written as it stops (`npx tsx test/bench/profile-summary.ts <file>`).
 */
export function cpuProfileOptions(): string[] {
  const dir = process.env.LIENTHONG_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : [];
}

/** Every process a bench started and has not seen end: what an interrupt must kill. */
export const benchChildren = new Set<ChildProcess>();

/** On Ctrl-C or SIGTERM, kills every process the bench started, then exits 130. */
export function killChildrenOnInterrupt(log: (line: string) => void): void {
  const interrupt = () => {
    log('interrupted: stopping the services');
    for (const child of benchChildren) child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
}

/** One pino line (or anything else a process printed) as a level and a short text. */
function logLine(line: string): { level: number; text: string } {
  try {
    const entry = JSON.parse(line) as {
      level?: number;
      msg?: string;
      err?: { message?: string };
      error?: unknown;
    };
    // kafkajs's lines, through the logger bridge, carry their reason in `error`.
    const reason = entry.err?.message ?? (typeof entry.error === 'string' ? entry.error : undefined);
    return { level: entry.level ?? 40, text: [entry.msg, reason].filter(Boolean).join(': ') };
  } catch {
    // Not a pino line: a Node warning or a stack trace, worth showing as it is.
    return { level: 40, text: line };
  }
}

/**
 * Starts `script` (a `.ts` path from the root) in `mode` with `env` on a free port, and resolves
 * once its `/readyz` answers 200, polled every `pollMs`; node's `nodeOptions` (such as
 * `--cpu-prof`) go before the script. The caller has run `prepareRun(mode)`.
 */
export async function startService(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { mode: RunMode; nodeOptions?: readonly string[]; pollMs?: number },
): Promise<ServiceProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, entryArgs(script, options.mode, options.nodeOptions), {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  benchChildren.add(child);
  let ended: string | undefined;
  let stopping = false;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      ended = signal ?? `exit code ${code}`;
      benchChildren.delete(child);
      done();
    }),
  );
  // Replaced by a fresh bucket by newLogs(), so that, say, the stop is told apart.
  let logs: ServiceLogs = { warn: 0, error: 0, samples: [] };
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      const { level, text } = logLine(line);
      if (level >= 50) logs.error += 1;
      else if (level >= 40) logs.warn += 1;
      if (level >= 40 && logs.samples.length < 6 && !logs.samples.includes(text)) logs.samples.push(text);
      const label = level >= 60 ? 'fatal' : level >= 50 ? 'error' : level >= 40 ? 'warn' : 'info';
      process.stderr.write(`[${name}] ${label}: ${text}\n`);
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    name,
    url,
    pid: child.pid ?? 0,
    crashed: () => (stopping ? undefined : ended),
    get logs() {
      return logs;
    },
    newLogs() {
      const last = logs;
      logs = { warn: 0, error: 0, samples: [] };
      return last;
    },
    async stop() {
      stopping = true;
      if (ended) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    },
  };
  for (const started = Date.now(); ; await sleep(options.pollMs ?? 200)) {
    if (ended) throw new Error(`the ${name} service ended before it was ready (${ended})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 90_000) {
      await service.stop();
      throw new Error(`the ${name} service was not ready within 90 s`);
    }
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { entryArgs, type RunMode } from './service-entry';

const ROOT = resolve(__dirname, '..', '..');

/** One of the bus's own processes: a connector, the sharing service or the lookup service. */
export interface BusProcessSpec {
  /** The log prefix, such as `tax` or `lookup`. */
  name: string;
  /** The service's `main.ts`, relative to the repository root. */
  main: string;
  /** Its compiled build (prepared by the caller with `prepareRun`) or its sources. */
  run: RunMode;
  port: number;
  env: Record<string, string>;
}

export interface BusProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * A pino line made short for a terminal: time, level, message, and the fields that say what
 * happened. Lines that are not JSON pass as they are.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, name: _name, pid: _pid, hostname: _host, err, ...rest } = entry;
    const clock = typeof time === 'string' ? time.slice(11, 19) : '';
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const error =
      err && typeof err === 'object' ? ` (${String((err as { message?: unknown }).message)})` : '';
    return `${clock} ${LEVELS[Number(level)] ?? String(level)} ${String(msg ?? '')}${error}${extra ? ` ${extra}` : ''}`;
  } catch {
    return line;
  }
}

/**
 * Starts a service as a process of its own, compiled or from its sources ({@link entryArgs}), the
 * pid being the service itself either way. Each line it writes goes to `write`, prefixed with its
 * name.
 */
export function startBusProcess(spec: BusProcessSpec, write: (line: string) => void): BusProcess {
  const child = spawn(process.execPath, entryArgs(spec.main, spec.run), {
    cwd: ROOT,
    env: { ...process.env, ...spec.env, PORT: String(spec.port) },
    // A group of its own: a Ctrl-C in the terminal reaches `npm start`, which stops the services in
    // order, rather than every service at once.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${spec.name}]`.padEnd(24);
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (line) => write(`${prefix} ${formatLogLine(line)}`));
  }
  const exited = new Promise<string>((done) =>
    child.once('exit', (code, signal) => done(signal ?? String(code))),
  );
  return { name: spec.name, url: `http://127.0.0.1:${spec.port}`, child, exited };
}

/** Waits until `GET <url>/readyz` answers 200, or the process exits, or `timeoutMs` passes. */
export async function waitReady(process_: BusProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  // Why the service last said it was not ready (a drifted topic names itself there).
  let why = '';
  void process_.exited.then((how) => (exited = how));
  for (;;) {
    if (exited !== undefined) throw new Error(`${process_.name} exited (${exited}) before it was ready`);
    try {
      const answer = await fetch(`${process_.url}/readyz`);
      if (answer.ok) return;
      why = String(((await answer.json()) as { detail?: unknown }).detail ?? '');
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${process_.name} was not ready within ${timeoutMs / 1000} s${why ? `: ${why}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Stops the processes in reverse order of start, each with SIGTERM (the services drain, commit
 * and close on it), then SIGKILL after `graceMs` for one that does not exit.
 */
export async function stopBusProcesses(processes: readonly BusProcess[], graceMs: number): Promise<void> {
  for (const p of [...processes].reverse()) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
    await p.exited;
    clearTimeout(timer);
  }
}

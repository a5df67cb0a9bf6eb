import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A long-running process that the stack manager started, remembered by a pid file.
 *
 * The pid file also records a marker (the instance's state directory), and a pid counts
 * as ours only while its command line still holds that marker: after a reboot or pid reuse,
 * `stop()` never signals a process that someone else started.
 */
export class ManagedProcess {
  constructor(
    readonly name: string,
    private readonly pidFile: string,
    private readonly marker: string,
    /** Markers that earlier versions recorded for the same process, still recognized. */
    private readonly legacyMarkers: readonly string[] = [],
  ) {}

  /** The pid of our running process, or undefined. */
  pid(): number | undefined {
    let recorded: { pid: number; marker: string };
    try {
      recorded = JSON.parse(readFileSync(this.pidFile, 'utf8')) as typeof recorded;
    } catch {
      return undefined;
    }
    const known = recorded.marker === this.marker || this.legacyMarkers.includes(recorded.marker);
    if (!known || !isAlive(recorded.pid)) return undefined;
    const cmdline = readCmdline(recorded.pid);
    return cmdline.includes(recorded.marker) ? recorded.pid : undefined;
  }

  /** Starts `command` detached, its output appended to `logFile`; it outlives this process. */
  start(command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv): number {
    mkdirSync(dirname(logFile), { recursive: true });
    const out = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
      if (child.pid === undefined) throw new Error(`${this.name} did not start: ${command} gave no pid`);
      child.unref();
      mkdirSync(dirname(this.pidFile), { recursive: true });
      writeFileSync(this.pidFile, JSON.stringify({ pid: child.pid, marker: this.marker }));
      return child.pid;
    } finally {
      closeSync(out);
    }
  }

  /**
   * Stops our process: SIGTERM, then SIGKILL after `graceMs`.
   * @returns whether there was a process to stop
   */
  async stop(graceMs = 20_000): Promise<boolean> {
    const pid = this.pid();
    if (pid === undefined) {
      rmSync(this.pidFile, { force: true });
      return false;
    }
    // The process leads its own group (detached), so the group signal also reaches its children.
    signal(-pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      signal(-pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
    rmSync(this.pidFile, { force: true });
    return true;
  }

  /** Kills our process at once with SIGKILL, as a crash would; the pid file stays. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    signal(-pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

/** Whether `pid` runs; a zombie, exited but not yet reaped by its parent, does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; its state letter in /proc says it is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

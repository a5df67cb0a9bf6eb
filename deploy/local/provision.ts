import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Prints one progress line; the CLI writes to stderr, tests may collect or drop them. */
export type Progress = (line: string) => void;

/**
 * Where provisioned artifacts live: outside the checkout, so that every clone on this
 * machine shares them. `LIENTHONG_CACHE_DIR` wins, then `XDG_CACHE_HOME`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIENTHONG_CACHE_DIR) return env.LIENTHONG_CACHE_DIR;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lienthong');
}

/** A short digest of the files an artifact is built from, so that a changed recipe rebuilds. */
export function recipeDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

/**
 * Makes `target` exist by running `build` into a scratch directory that is renamed into
 * place only when the build succeeds: an interrupted build never leaves a half artifact
 * that later runs would trust.
 * @returns whether it had to build
 */
export async function ensureArtifact(
  target: string,
  build: (scratch: string) => Promise<void>,
): Promise<boolean> {
  if (existsSync(target)) return false;
  const scratch = `${target}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    await build(scratch);
    // Another process may have finished the same artifact meanwhile; either copy will do.
    if (!existsSync(target)) renameSync(scratch, target);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return true;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for each output line; returns a progress message to show, or nothing. */
  onLine?: (line: string) => string | undefined;
  progress: Progress;
  /** Named in the heartbeat printed while the command is silent. */
  label: string;
}

/**
 * Runs a provisioning command, showing progress: the lines `onLine` picks, and a heartbeat
 * every 15 s so that a long silent step (a Go link, a Maven resolve) never looks hung.
 * On failure the error holds the last output lines, which is what one needs to see.
 */
export function runWithProgress(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<void> {
  const started = Date.now();
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const heartbeat = setInterval(() => {
      options.progress(`${options.label}: still working, ${Math.round((Date.now() - started) / 1000)} s`);
    }, 15_000);
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      const message = options.onLine?.(line);
      if (message) options.progress(message);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', (error) => {
      clearInterval(heartbeat);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`${options.label} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

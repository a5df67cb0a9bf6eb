/**
 * How a service's entry point is run: the one choice between the compiled build and the sources.
 *
 * - `compiled`: plain `node dist/<main>.js`, what the image runs (deploy/Dockerfile). `npm start`
 *   and the benchmarks run this, after {@link ensureCompiled} has checked that `dist/` is the build
 *   of the current sources (and built it if not).
 * - `source`: `node --import tsx <main>.ts`, the TypeScript as it is, compiled in memory. The tests
 *   run this: they test the sources they sit beside, with no build step to forget, and a `dist/`
 *   left over from another commit cannot be what they test.
 *
 * Both run the service in the spawned process itself (tsx as a loader, not its CLI, which would
 * run the script in a child that a signal to the pid misses), with its heap held to
 * {@link NODE_HEAP_OPTIONS}, as every deployment runs it.
 */
import { join, resolve } from 'node:path';
import { ensureCompiled } from '../build-inputs';

const ROOT = resolve(__dirname, '..', '..');

export const RUN_MODES = ['compiled', 'source'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/**
 * The V8 heap every bus process is held to: its old generation at most {@link NODE_HEAP_MIB} MiB.
 * Left to itself, V8 sizes the heap from the machine's memory and lets it grow to several times
 * the live data between full collections: after the lookup benchmark's 20,000 events and its
 * load, the sharing service kept about 78 MiB live after each full collection, yet held 237 MiB
 * of heap and ended at 358 MiB RSS, past the 256 MiB every service is given (DESIGN). Held to
 * 160 MiB, about twice what it keeps live, it ended at 238 MiB (232 at 128 MiB, where it caught
 * up more slowly). Deployments pass the same options in NODE_OPTIONS (`commonEnv`).
 */
export const NODE_HEAP_MIB = 160;
export const NODE_HEAP_OPTIONS: readonly string[] = [`--max-old-space-size=${NODE_HEAP_MIB}`];

/** The compiled counterpart of a `.ts` entry point given from the root, as an absolute path. */
export function compiledEntry(main: string): string {
  return join(ROOT, 'dist', main.replace(/\.ts$/, '.js'));
}

/**
 * node's arguments that run `main` (a `.ts` path from the repository root) in `mode`: the heap's
 * bound, then `nodeOptions` (such as `--cpu-prof`). Call {@link prepareRun} once before running
 * `compiled`.
 */
export function entryArgs(main: string, mode: RunMode, nodeOptions: readonly string[] = []): string[] {
  const options = [...NODE_HEAP_OPTIONS, ...nodeOptions];
  return mode === 'compiled'
    ? [...options, compiledEntry(main)]
    : [...options, '--import', 'tsx', join(ROOT, main)];
}

/** What `mode` needs before a service starts: a current build for `compiled`, nothing for `source`. */
export function prepareRun(mode: RunMode, progress: (line: string) => void): void {
  if (mode === 'compiled') ensureCompiled(progress);
}

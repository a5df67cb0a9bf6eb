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
 * run the script in a child that a signal to the pid misses).
 */
import { join, resolve } from 'node:path';
import { ensureCompiled } from '../build-inputs';

const ROOT = resolve(__dirname, '..', '..');

export const RUN_MODES = ['compiled', 'source'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** The compiled counterpart of a `.ts` entry point given from the root, as an absolute path. */
export function compiledEntry(main: string): string {
  return join(ROOT, 'dist', main.replace(/\.ts$/, '.js'));
}

/**
 * node's arguments that run `main` (a `.ts` path from the repository root) in `mode`, after
 * `nodeOptions` (such as `--cpu-prof`). Call {@link prepareRun} once before running `compiled`.
 */
export function entryArgs(main: string, mode: RunMode, nodeOptions: readonly string[] = []): string[] {
  return mode === 'compiled'
    ? [...nodeOptions, compiledEntry(main)]
    : [...nodeOptions, '--import', 'tsx', join(ROOT, main)];
}

/** What `mode` needs before a service starts: a current build for `compiled`, nothing for `source`. */
export function prepareRun(mode: RunMode, progress: (line: string) => void): void {
  if (mode === 'compiled') ensureCompiled(progress);
}

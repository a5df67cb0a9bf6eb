/**
 * What the compiled build (`npm run build`, in `dist/`) was made from, so that a process about to
 * run it can tell a current build from a stale one. `deploy/build-assets.ts` writes the digest of
 * the sources as the build's last step; {@link ensureCompiled} builds again when the sources
 * differ from it, so that a stale `dist/` is never run by accident.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** Where the build records the digest of its inputs; `npm run build` removes it first. */
export const BUILD_STAMP = join(ROOT, 'dist', 'build-inputs.json');
/** Every file of these folders is compiled or copied into `dist/` (build-assets.ts). */
const TREES = ['services', 'connectors', 'schemas'];
/** `deploy/compose/init.ts` and what it imports: the TypeScript of this folder. */
const TS_TREES = ['deploy'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function files(dir: string, onlyTs: boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    // Local state, secrets and caches (`.state`, `.secrets`) are no input of the build.
    if (entry.name.startsWith('.') || entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path, onlyTs);
    return !onlyTs || entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** SHA-256 over the build's inputs, each by its path from the root and its content. */
export function buildInputsDigest(): string {
  const hash = createHash('sha256');
  const paths = [
    ...TREES.flatMap((tree) => files(join(ROOT, tree), false)),
    ...TS_TREES.flatMap((tree) => files(join(ROOT, tree), true)),
    ...FILES.map((file) => join(ROOT, file)),
  ].sort();
  for (const path of paths) {
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

/** Whether `dist/` holds the build of the sources as they are now. */
export function isCompiledCurrent(): boolean {
  try {
    const stamp = JSON.parse(readFileSync(BUILD_STAMP, 'utf8')) as { digest?: unknown };
    return stamp.digest === buildInputsDigest();
  } catch {
    return false;
  }
}

/**
 * Runs `npm run build` unless `dist/` is already the build of the current sources.
 *
 * @throws when the build fails; its output went to this process's stderr
 */
export function ensureCompiled(progress: (line: string) => void): void {
  if (isCompiledCurrent()) return;
  progress('lienthong: dist/ is not the build of these sources; running npm run build');
  const build = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (build.status !== 0 || !isCompiledCurrent())
    throw new Error(`npm run build failed (${build.error?.message ?? `exit ${String(build.status)}`})`);
}

/**
 * The second half of `npm run build`: copies the files the compiled code reads at run time into
 * `dist/`, beside the code that resolves them from `__dirname`: every file under the compiled
 * folders that is not TypeScript (the Avro contracts, the field policies), and whole the sources
 * that are bundled at run time instead of compiled (the console's browser code, which esbuild
 * bundles when the console starts). Last, it records the digest of the sources it was built from
 * (build-inputs.ts), by which `npm start` and the benchmarks tell a current build from a stale one.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BUILD_STAMP, buildInputsDigest } from './build-inputs';

const ROOT = resolve(__dirname, '..');
const FOLDERS = ['services', 'connectors', 'schemas'];
/** Left out of `tsconfig.build.json`, and read as sources at run time. */
const SOURCE_TREES = ['services/console/web'];

/** The run-time files under `dir`, relative to the root. */
function assets(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return assets(path);
    const file = relative(ROOT, path);
    const source = SOURCE_TREES.some((tree) => file.startsWith(`${tree}/`));
    return entry.name.endsWith('.ts') && !source ? [] : [file];
  });
}

for (const file of FOLDERS.flatMap((folder) => assets(join(ROOT, folder)))) {
  cpSync(join(ROOT, file), join(ROOT, 'dist', file));
}
writeFileSync(BUILD_STAMP, `${JSON.stringify({ digest: buildInputsDigest() })}\n`);
process.stderr.write('build: copied the run-time files into dist/\n');

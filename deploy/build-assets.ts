/**
 * The second half of `npm run build`: copies the files the compiled code reads at run time (the
 * Avro contracts, the field policies: every file under the compiled folders that is not
 * TypeScript) into `dist/`, beside the code that resolves them from `__dirname`.
 */
import { cpSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const FOLDERS = ['services', 'connectors', 'schemas'];

/** The run-time files under `dir`, relative to the root. */
function assets(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return assets(path);
    return entry.name.endsWith('.ts') ? [] : [relative(ROOT, path)];
  });
}

for (const file of FOLDERS.flatMap((folder) => assets(join(ROOT, folder)))) {
  cpSync(join(ROOT, file), join(ROOT, 'dist', file));
  process.stderr.write(`build: copied ${file}\n`);
}

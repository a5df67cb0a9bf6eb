/**
 * `npm run console:screenshots`: runs the console's browser tests with their screenshots written to
 * `docs/console/`, the ones the README shows, so that they show the console as it is. Every page is
 * photographed in Vietnamese and in English. Runs on the stack the environment names, like `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const DIR = join(ROOT, 'docs', 'console');

const run = spawnSync(
  process.execPath,
  [
    join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
    'test/e2e/console/console.test.ts',
    '--selectProjects',
    'integration',
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CONSOLE_SCREENSHOT_DIR: DIR } },
);
if (run.status !== 0) {
  process.stderr.write('console:screenshots: the browser tests failed; the screenshots may be incomplete\n');
  process.exit(run.status ?? 1);
}
for (const file of readdirSync(DIR).sort()) process.stdout.write(`docs/console/${file}\n`);

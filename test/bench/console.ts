/**
 * Console benchmark. It prints figures and asserts nothing.
 *
 * 1. The JavaScript of the first page, gzipped: the entry and the chunks it imports statically
 *    (the charts load later, on the auditor's page, and are reported apart).
 * 2. The first render of the officer's desk in Chromium, with the stack running: a signed-in
 *    officer opens the console in a fresh browser context (cold cache) each time, and the figure is
 *    the time from navigation start to the desk's first render (a `performance.mark` the page sets).
 * 3. Opening a dossier at the desk: from the click to the dossier shown, through the console's
 *    pass-through and the lookup service's `GET /v1/desk/{id}` on the real store.
 *
 * Run with `npm run bench:console` (`-- --loads N`, default 10). It brings the local stack up if
 * needed, and runs the sharing and lookup services in process on topics and a database of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { buildConsoleAssets, firstPageScripts } from '../../services/console/assets';
import { createConsoleService } from '../../services/console/console-service';
import { createLogger } from '../../services/platform/logger';
import { launchChromium } from '../e2e/console/browser';
import { scratchDir } from '../support/fixtures';
import { lookupHarness } from '../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../support/lookup-story';
import { benchStack } from './bench-stack';

const args = parseArgs({ options: { loads: { type: 'string', default: '10' } } });
const LOADS = Math.max(1, Number(args.values.loads));
const log = (line: string) => process.stderr.write(`${line}\n`);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

async function main(): Promise<void> {
  const scratch = scratchDir('bench-console');
  const assets = await buildConsoleAssets(join(scratch.path, 'assets'));
  const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
  const first = firstPageScripts(assets);
  const firstBytes = first.reduce((n, f) => n + gz(f), 0);
  const lazy = Object.keys(assets.metafile.outputs).filter((o) => o.endsWith('.js') && !first.includes(o));
  const lazyBytes = lazy.reduce((n, f) => n + gz(f), 0);

  const stack = await benchStack(log);
  const harness = lookupHarness();
  await harness.setUp();
  const events = lookupStoryEvents();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  const service = createConsoleService({
    logger: createLogger({ name: 'bench-console', level: 'silent' }),
    assetsDir: assets.dir,
    upstreams: {
      lookup: harness.lookup().url(),
      sharing: harness.sharing.service().url(),
      registry: stack.endpoints.SCHEMA_REGISTRY_URL,
      connectors: {},
    },
    host: '127.0.0.1',
    port: 0,
  });
  await service.start();
  const browser = await launchChromium();
  const renders: number[] = [];
  const opens: number[] = [];
  try {
    const session = JSON.stringify({
      role: 'officer',
      sub: 'CB-STNMT-02',
      agency: 'HN-STNMT',
      token: harness.officer('HN-STNMT', 'CB-STNMT-02'),
    });
    for (let i = 0; i < LOADS; i += 1) {
      const context = await browser.newContext();
      await context.addInitScript(
        (s) =>
          (
            globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
          ).sessionStorage.setItem('lienthong.session', s),
        session,
      );
      const page = await context.newPage();
      await page.goto(`${service.url()}/#/desk`);
      await page.waitForFunction(() => performance.getEntriesByName('lienthong:desk-rendered').length > 0);
      renders.push(
        await page.evaluate(
          () => performance.getEntriesByName('lienthong:desk-rendered')[0]?.startTime ?? NaN,
        ),
      );
      await page.fill('input[name=dossierId]', OPEN_DOSSIERS.land.id);
      const clicked = performance.now();
      await page.click('form button[type=submit]');
      await page.getByTestId('dossier').waitFor();
      opens.push(performance.now() - clicked);
      await context.close();
    }
  } finally {
    await browser.close();
    await service.stop();
    await harness.tearDown();
    scratch.remove();
  }
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  process.stdout.write(
    [
      `console benchmark, ${LOADS} loads, Chromium headless, stack: ${stack.endpoints.MONGODB_URI}`,
      `  first page JavaScript, gzipped: ${kb(firstBytes)} in ${first.length} file(s) (target ≤ 300 KB)`,
      `  loaded later (charts), gzipped: ${kb(lazyBytes)} in ${lazy.length} file(s)`,
      `  desk first render from navigation: median ${ms(percentile(renders, 50))}, p90 ${ms(percentile(renders, 90))}, max ${ms(Math.max(...renders))} (target ≤ 1 s)`,
      `  dossier opened at the desk (click to shown): median ${ms(percentile(opens, 50))}, max ${ms(Math.max(...opens))}`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:console: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);

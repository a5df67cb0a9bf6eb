/**
 * Import benchmark: a large NDJSON file (1,000,000 rows by default; `-- --rows N`) through
 * `POST /v1/imports`, streamed from disk, with the connector's RSS sampled while it runs. It
 * prints rows/s and peak RSS and asserts nothing. Run with `npm run bench:import`.
 */
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecords } from '../../connectors/demo/generator';
import { startBenchConnector } from './connector-process';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000;
const log = (line: string): void => {
  process.stderr.write(`[bench:import] ${line}\n`);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lienthong-import-'));
  const file = join(dir, 'tax.ndjson');
  log(`writing ${ROWS} rows`);
  // Written in slices, so that the generator's own memory stays small too.
  writeFileSync(file, '');
  for (let done = 0; done < ROWS; done += 50_000) {
    const slice = generateRecords('tax', Math.min(50_000, ROWS - done), 1_000 + done);
    writeFileSync(file, `${slice.map((r) => JSON.stringify(r)).join('\n')}\n`, { flag: 'a' });
  }
  const bytes = statSync(file).size;
  const connector = await startBenchConnector(log);
  try {
    const before = connector.rssMiB();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, connector.rssMiB());
    }, 250);
    const started = Date.now();
    const upload = await fetch(`${connector.url}/v1/imports`, {
      method: 'POST',
      headers: { ...connector.headers, 'content-type': 'application/x-ndjson' },
      body: createReadStream(file) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const accepted = (await upload.json()) as { id: string };
    log(
      `uploaded ${Math.round(bytes / 1_048_576)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s, import ${accepted.id}`,
    );
    let status: { state: string; rowsDone: number; accepted: number; rejected: number } = {
      state: 'queued',
      rowsDone: 0,
      accepted: 0,
      rejected: 0,
    };
    let lastReport = 0;
    while (status.state !== 'completed' && status.state !== 'failed') {
      await new Promise((done) => setTimeout(done, 500));
      status = (await (
        await fetch(`${connector.url}/v1/imports/${accepted.id}`, { headers: connector.headers })
      ).json()) as typeof status;
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now();
        log(`${status.rowsDone} of ${ROWS} rows, RSS ${connector.rssMiB()} MiB`);
      }
    }
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      [
        '',
        `import benchmark: ${ROWS} NDJSON rows, ${Math.round(bytes / 1_048_576)} MiB`,
        '| figure | measured |',
        '| --- | --- |',
        `| state | ${status.state}: ${status.accepted} accepted, ${status.rejected} rejected |`,
        `| rows/s, upload to last acknowledgement | ${Math.round(ROWS / seconds)} |`,
        `| connector RSS before / peak | ${before} / ${peak} MiB |`,
        '',
      ].join('\n'),
    );
  } finally {
    await connector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:import] ${(error as Error).message}\n`);
  process.exitCode = 1;
});

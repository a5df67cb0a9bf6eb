/**
 * Ingest benchmark: records per second through a connector into Kafka (100 records per POST,
 * acks=all), then the acknowledgement latency at half that rate. It prints figures and asserts
 * nothing. Run with `npm run bench:ingest` (`-- --quick` for a short run); it brings the local
 * stack up if needed and runs the tax connector as a process of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { generateRecords } from '../../connectors/demo/generator';
import { runContractTool } from '../../schemas/contract-tool';
import { generateCredentials } from '../../services/platform/credentials';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { freePort } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 5 : 10;
const RECORDS_PER_POST = 100;
const CONNECTIONS = 16;

const log = (line: string): void => {
  process.stderr.write(`[bench:ingest] ${line}\n`);
};

async function main(): Promise<void> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  if (!stack.registry) throw new Error('the benchmark runs against the local registry');
  const keys = stack.registry.keys();
  await runContractTool('register', { url: stack.registry.url, keys });

  const work = mkdtempSync(join(tmpdir(), 'lienthong-bench-'));
  const { entries, keys: apiKeys } = generateCredentials([
    { id: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' },
  ]);
  writeFileSync(join(work, 'api-keys.json'), JSON.stringify({ clients: entries }));
  const port = await freePort();
  const connector = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'connectors', 'tax', 'main.ts')],
    {
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.endpoints.KAFKA_BROKERS,
        SCHEMA_REGISTRY_URL: stack.endpoints.SCHEMA_REGISTRY_URL,
        SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
        SCHEMA_REGISTRY_KEY: keys['lienthong-reader'],
        CONNECTOR_API_KEYS_FILE: join(work, 'api-keys.json'),
        CONNECTOR_SPOOL_DIR: join(work, 'spool'),
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(url);
    const totalBodies = Math.ceil((ROUNDS * SECONDS * 40_000) / RECORDS_PER_POST);
    log(`generating ${totalBodies * RECORDS_PER_POST} distinct tax records`);
    const records = generateRecords('tax', totalBodies * RECORDS_PER_POST, Date.now() % 1_000_000);
    const bodies: string[] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_POST)
      bodies.push(JSON.stringify(records.slice(i, i + RECORDS_PER_POST)));
    let next = 0;
    const body = (): string => bodies[next++ % bodies.length] as string;
    const headers = {
      'content-type': 'application/json',
      'x-api-key': `HN-CUCTHUE.${apiKeys['HN-CUCTHUE']}`,
    };

    // Warm-up: JIT, connections, the producer's first metadata.
    await load(url, headers, body, { duration: 2 });

    const rates: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      log(`round ${round}/${ROUNDS}: ${CONNECTIONS} connections for ${SECONDS} s, as fast as acknowledged`);
      const result = await load(url, headers, body, { duration: SECONDS });
      const rate = (result.ok * RECORDS_PER_POST) / SECONDS;
      log(`  ${Math.round(rate)} records/s (${result.ok} POSTs answered 200, ${result.errors} not)`);
      rates.push(rate);
    }
    const maxRate = median(rates);
    const halfRate = maxRate / 2;
    log(`latency at half the rate: ${Math.round(halfRate)} records/s for ${SECONDS} s`);
    const paced = await load(url, headers, body, {
      duration: SECONDS,
      overallRate: Math.max(1, Math.round(halfRate / RECORDS_PER_POST)),
    });
    const rss = rssOf(connector.pid);

    const lines = [
      '',
      `ingest benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} cores, ${RECORDS_PER_POST} records per POST, acks=all`,
      `| figure | measured | target |`,
      `| --- | --- | --- |`,
      `| ingest throughput (median of ${ROUNDS}) | ${Math.round(maxRate)} records/s | ≥ 20,000 records/s |`,
      `| ack latency p50 at ${Math.round(halfRate)} records/s | ${paced.p50} ms | |`,
      `| ack latency p99 at ${Math.round(halfRate)} records/s | ${paced.p99} ms | ≤ 20 ms |`,
      `| connector RSS after the run | ${rss} MiB | ≤ 256 MiB |`,
      `rounds: ${rates.map((r) => Math.round(r)).join(', ')} records/s; paced run: ${paced.ok} POSTs, ${paced.errors} errors`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    connector.kill('SIGTERM');
    await new Promise((resolve) => connector.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  }
}

async function load(
  url: string,
  headers: Record<string, string>,
  body: () => string,
  options: { duration: number; overallRate?: number },
): Promise<{ ok: number; errors: number; p50: number; p99: number }> {
  const result = await autocannon({
    url: `${url}/v1/records`,
    method: 'POST',
    headers,
    connections: CONNECTIONS,
    duration: options.duration,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
  });
  const ok = result['2xx'];
  return {
    ok,
    errors: result.non2xx + result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

async function waitForReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the connector did not become ready');
}

/** The largest RSS, in MiB, of a process and its children: tsx runs the script in a child. */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const rss = (p: string): number => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children listed
  }
  return Math.round(Math.max(rss(String(pid)), ...children.map(rss)) / 1024);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:ingest] ${(error as Error).message}\n`);
  process.exitCode = 1;
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runContractTool } from '../../schemas/contract-tool';
import { generateCredentials } from '../../services/platform/credentials';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { agencyPrincipal } from '../../deploy/local/topics';
import { freePort } from '../support/fixtures';
import { memoryOf, processTree, usageOf } from './process-usage';
import { type ProcessFigure } from './report-format';

const ROOT = resolve(__dirname, '..', '..');

export interface BenchConnector {
  url: string;
  headers: Record<string, string>;
  /** The largest RSS, in MiB, of the connector process and its children (tsx runs it in one). */
  rssMiB(): number;
  /** CPU and memory of the connector so far, its process and its children together. */
  usage(): ProcessFigure;
  stop(): Promise<void>;
}

/**
 * The local stack, up, with the contracts registered, and the tax connector running as a
 * process of its own (so that its CPU and memory are its own), ready for load.
 */
export async function startBenchConnector(log: (line: string) => void): Promise<BenchConnector> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  if (!stack.registry) throw new Error('the benchmarks run against the local registry');
  const keys = stack.registry.keys();
  await runContractTool('register', { url: stack.registry.url, keys });

  const work = mkdtempSync(join(tmpdir(), 'lienthong-bench-'));
  const { entries, keys: apiKeys } = generateCredentials([
    { id: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' },
  ]);
  writeFileSync(join(work, 'api-keys.json'), JSON.stringify({ clients: entries }));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'connectors', 'tax', 'main.ts')],
    {
      env: {
        ...process.env,
        // The tax connector's own principal, as `npm start` runs it.
        ...stack.kafkaEnv(agencyPrincipal('tax')),
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
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error('the connector did not become ready');
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url,
    headers: { 'x-api-key': `HN-CUCTHUE.${apiKeys['HN-CUCTHUE']}` },
    rssMiB: () =>
      child.pid === undefined ? 0 : Math.max(0, ...processTree(child.pid).map((p) => memoryOf(p)?.now ?? 0)),
    usage: () =>
      usageOf('tax connector (connectors/tax/main.ts)', child.pid ?? 0, {
        tree: true,
        note: 'the tsx CLI and its children (the connector, esbuild): CPU summed, RSS of the largest',
      }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

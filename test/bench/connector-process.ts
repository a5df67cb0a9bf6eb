import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runContractTool } from '../../schemas/contract-tool';
import { parseMetrics } from '../../services/console/web/metrics';
import { generateCredentials } from '../../services/platform/credentials';
import { entryArgs, prepareRun, type RunMode } from '../../deploy/local/service-entry';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { agencyPrincipal } from '../../deploy/local/topics';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import {
  QUARANTINE_GROUP_PREFIX,
  quarantineTopicDeclaration,
  quarantineTopicFor,
} from '../../connectors/runtime/quarantine';
import { agencyGrants, applyAcls, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { REDRIVE_LOG_TOPIC } from '../../services/platform/redrive-log';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { freePort, waitUntilReady } from '../support/fixtures';
import { memoryOf, processTree, usageOf } from './process-usage';
import { type ProcessFigure } from './report-format';

export interface BenchConnector {
  url: string;
  headers: Record<string, string>;
  /** How it runs: compiled (`node dist/…`) or from the sources under tsx. */
  run: RunMode;
  /** The options it was started with, to start another alike. */
  spawnedWith: BenchConnectorOptions;
  /** The RSS, in MiB, of the connector process (and of any children). */
  rssMiB(): number;
  /** CPU and memory of the connector so far, its process and its children together. */
  usage(): ProcessFigure;
  stop(): Promise<void>;
}

/**
 * The local stack, up, with the contracts registered, and the tax connector running as a
 * process of its own (so that its CPU and memory are its own), ready for load.
 */
export async function startBenchConnector(
  log: (line: string) => void,
  options: Pick<BenchConnectorOptions, 'build'> = {},
): Promise<BenchConnector> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  if (!stack.registry) throw new Error('the benchmarks run against the local registry');
  const keys = stack.registry.keys();
  await runContractTool('register', { url: stack.registry.url, keys });
  // A tax topic of the run's own (and its quarantine), with the tax topic's partitions and policy
  // and the tax principal's grants, all removed after: in the stack's own tax topic, the run's
  // millions of records would wait for the next `npm start`'s sharing service to route them.
  const topic = `bench.tax.${Date.now()}`;
  const topics = [
    { topic, kind: 'domain' as const, numPartitions: DOMAIN_TOPIC_PARTITIONS },
    quarantineTopicDeclaration(topic),
  ];
  const operator = stack.kafkaConnection(OPERATOR_PRINCIPAL);
  const granted = await withAdmin(operator, 'bench-topics', async (admin) => {
    await ensurePolicyTopics(admin, topics);
    return applyAcls(
      admin,
      agencyGrants(agencyPrincipal('tax'), topic, quarantineTopicFor(topic), {
        quarantineGroupPrefix: `${QUARANTINE_GROUP_PREFIX}tax-`,
        redriveLogTopic: REDRIVE_LOG_TOPIC,
      }),
    );
  });
  const connector = await spawnBenchConnector({
    ...options,
    run: stack.config.LIENTHONG_RUN,
    // The tax connector's own principal, as `npm start` runs it.
    kafkaEnv: stack.kafkaEnv(agencyPrincipal('tax')),
    registryUrl: stack.endpoints.SCHEMA_REGISTRY_URL,
    registryKey: keys['lienthong-reader'] ?? '',
    env: { CONNECTOR_TOPIC: topic },
  });
  return {
    ...connector,
    async stop() {
      await connector.stop();
      await withAdmin(operator, 'bench-topics', async (admin) => {
        await admin.deleteTopics({ topics: topics.map((t) => t.topic) });
        if (granted.length > 0) await admin.deleteAcls({ filters: granted });
      });
    },
  };
}

export interface BenchConnectorOptions {
  /** `KAFKA_BROKERS` and the security variables the connector connects with. */
  kafkaEnv: Record<string, string>;
  registryUrl: string;
  /** The registry key of `lienthong-reader`. */
  registryKey: string;
  /**
   * Compiled, as `npm start` and the image run it (the default: LIENTHONG_RUN, validated with the
   * stack's settings), or from the sources under tsx.
   */
  run?: RunMode;
  /**
   * An entry point other than `connectors/tax/main.ts` that runs the same connector, and its
   * arguments, from the root. One under `test/` is not in the build: run it from the sources.
   */
  entry?: { main: string; args: readonly string[] };
  /**
   * Another build's `dist/` (an earlier commit's, say), whose compiled entry point runs instead,
   * to compare two commits under the same conditions.
   */
  build?: string;
  /** Variables of its own, such as CONNECTOR_PRODUCERS. */
  env?: Record<string, string>;
}

/** The tax connector as a process of its own, on a free port, ready for load. */
export async function spawnBenchConnector(options: BenchConnectorOptions): Promise<BenchConnector> {
  const work = mkdtempSync(join(tmpdir(), 'lienthong-bench-'));
  const { entries, keys: apiKeys } = generateCredentials([
    { id: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' },
  ]);
  writeFileSync(join(work, 'api-keys.json'), JSON.stringify({ clients: entries }));
  const port = await freePort();
  const entry = options.entry ?? { main: 'connectors/tax/main.ts', args: [] };
  const run = options.run ?? stackConfig().LIENTHONG_RUN;
  // Another build is run as it is; this one is checked current first.
  if (options.build === undefined) prepareRun(run, (line) => process.stderr.write(`${line}\n`));
  // With BENCH_CPU_PROF_DIR set, the connector runs under node's own profiler and writes a
  // .cpuprofile there when it stops.
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const args =
    options.build === undefined
      ? [...entryArgs(entry.main, run, profile), ...entry.args]
      : [...profile, resolve(options.build, entry.main.replace(/\.ts$/, '.js')), ...entry.args];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...options.kafkaEnv,
      SCHEMA_REGISTRY_URL: options.registryUrl,
      SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
      SCHEMA_REGISTRY_KEY: options.registryKey,
      CONNECTOR_API_KEYS_FILE: join(work, 'api-keys.json'),
      CONNECTOR_SPOOL_DIR: join(work, 'spool'),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, 'the connector');
  return {
    url,
    run,
    spawnedWith: options,
    headers: { 'x-api-key': `HN-CUCTHUE.${apiKeys['HN-CUCTHUE']}` },
    rssMiB: () =>
      child.pid === undefined ? 0 : Math.max(0, ...processTree(child.pid).map((p) => memoryOf(p)?.now ?? 0)),
    usage: () =>
      usageOf(`tax connector (${options.build ?? entry.main}, ${run})`, child.pid ?? 0, {
        tree: true,
        note: run === 'compiled' ? 'node dist/…js' : 'node --import tsx: its esbuild child counted too',
      }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * prom-client's default interval of the event-loop histogram, ms: Node's `monitorEventLoopDelay`
 * samples the loop with a timer of this period and records the time between two samples, so an
 * idle loop reads about 10 ms.
 */
export const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * How late a service's event loop ran since the previous scrape of its `GET /metrics`, ms beyond
 * the sampling interval: prom-client reads its event-loop histogram at each scrape and then resets
 * it, so a scrape before a phase and one after give the phase alone. Nothing else may scrape it
 * meanwhile.
 *
 * @see https://nodejs.org/api/perf_hooks.html#perf_hooksmonitoreventloopdelayoptions
 */
export async function eventLoopDelaySince(url: string): Promise<{ p50: number; p99: number; max: number }> {
  const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  const beyond = (name: string): number => {
    const seconds = samples.find((s) => s.name === `nodejs_eventloop_lag_${name}_seconds`)?.value;
    if (seconds === undefined) throw new Error(`${url}/metrics has no nodejs_eventloop_lag_${name}_seconds`);
    return Math.max(0, Math.round((seconds * 1_000 - EVENT_LOOP_SAMPLE_MS) * 100) / 100);
  };
  return { p50: beyond('p50'), p99: beyond('p99'), max: beyond('max') };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export interface IngestLoad {
  url: string;
  /** The client's credentials; the content type is added. */
  headers: Record<string, string>;
  /** The next POST body (a JSON array of records). */
  body: () => string;
  connections: number;
  duration: number;
  /** POSTs per second over all connections; as fast as answered when absent. */
  overallRate?: number;
}

/**
 * POSTs to the connector's `/v1/records` with autocannon. Every POST not answered 2xx (another
 * status, an error, a timeout) counts in `errors`: a rate is only what was acknowledged.
 */
export async function loadConnector(
  load: IngestLoad,
): Promise<{ ok: number; errors: number; timeouts: number; p50: number; p99: number }> {
  const result = await autocannon({
    url: `${load.url}/v1/records`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...load.headers },
    connections: load.connections,
    duration: load.duration,
    ...(load.overallRate ? { overallRate: load.overallRate } : {}),
    requests: [{ setupRequest: (request) => ({ ...request, body: load.body() }) }],
  });
  return {
    ok: result['2xx'],
    // autocannon's `errors` counts its timeouts already.
    errors: result.non2xx + result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

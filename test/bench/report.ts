/**
 * The benchmark report: runs the ingest, materialize and lookup benches (and, in full mode, the
 * security bench) one after another, each as a process of its own (two cores: side by side they
 * would measure each other), collects the figures each writes as JSON (report-format.ts), and writes one report, with the machine, the
 * versions and the CPU and memory of the processes involved, to `bench-results/` as
 * `<UTC time>-<quick|full>.json` and `.md`, copied to `latest.json` and `latest.md`. It marks each
 * figure against its target from DESIGN.md and asserts nothing.
 *
 * Run with `npm run bench` (each bench's full mode) or `npm run bench -- --quick` (short runs, under
 * three minutes in all on two cores). Progress goes to stderr, the markdown report to stdout.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, freemem, loadavg, release, totalmem, type } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { FERRETDB_VERSION } from '../../deploy/local/local-ferretdb';
import { KAFKA_VERSION } from '../../deploy/local/local-kafka';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { prepareRun } from '../../deploy/local/service-entry';
import { scratchDir } from '../support/fixtures';
import { machineTicks, processTree, usageOf } from './process-usage';
import { referenceWork } from './reference-work';
import { BENCH_JSON_ENV, type BenchFigure, type BenchResult, type ProcessFigure } from './report-format';

const ROOT = resolve(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench-results');

const quick = parseArgs({ options: { quick: { type: 'boolean', default: false } } }).values.quick === true;
const mode = quick ? 'quick' : 'full';

interface BenchSpec {
  name: string;
  script: string;
  args: string[];
}

/**
 * The benches in the order they run. The quick lookup run is shorter than the bench's own
 * `--quick` so that the whole quick report stays within three minutes on two cores.
 */
const BENCHES: BenchSpec[] = [
  { name: 'ingest', script: 'test/bench/ingest.ts', args: quick ? ['--quick'] : [] },
  { name: 'materialize', script: 'test/bench/materialize.ts', args: quick ? ['--quick'] : [] },
  {
    name: 'lookup',
    script: 'test/bench/lookup.ts',
    args: quick ? ['--quick', '--seconds', '5', '--citizens', '500'] : [],
  },
  // Its own scratch broker and six rounds: the full report only, to keep the quick one short.
  ...(quick ? [] : [{ name: 'security', script: 'test/bench/security.ts', args: [] }]),
];
/** A bench that runs longer than this is stopped, and the report goes on without it. */
const BENCH_TIMEOUT_MS = (quick ? 5 : 45) * 60_000;
/** Progress shows a line at least this often while a bench is quiet. */
const HEARTBEAT_MS = 15_000;

const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};
const clock = (ms: number): string => {
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

interface Machine {
  cpuModel: string;
  cpuCount: number;
  memoryMiB: number;
  availableMemoryMiB: number;
  os: string;
  kernel: string;
  /** 1, 5 and 15 minute load averages when the report started. */
  loadAverageBefore: number[];
  /** CPU ms of the reference work (reference-work.ts), median of 3, before and after the run. */
  referenceWorkMs?: { before: number; after: number };
}

function machine(): Machine {
  let os = type();
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // no os-release: the kernel's name will do
  }
  let available = freemem();
  try {
    const kb = /MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kb) available = Number(kb) * 1_024;
  } catch {
    // not Linux: free memory, a lower bound
  }
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus().length,
    memoryMiB: Math.round(totalmem() / 1_048_576),
    availableMemoryMiB: Math.round(available / 1_048_576),
    os,
    kernel: `${type()} ${release()} ${arch()}`,
    loadAverageBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

interface Versions {
  node: string;
  lienthong: { version: string; commit: string; dirty: boolean | null; changedFiles: number | null };
  kafkajs: string;
  mongodb: string;
  fastify: string;
  kafka: string;
  store: StoreInfo;
}

interface StoreInfo {
  kind: 'FerretDB' | 'MongoDB' | 'unknown';
  /** How the report knows: the local stack's pinned version, or what the server says of itself. */
  version: string;
  /** The store's address, without credentials. */
  endpoint: string;
  external: boolean;
}

/** The version a package in node_modules declares: the one installed, not the range asked for. */
function installed(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'not installed';
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** What the running process's command line says of its version, e.g. a cache directory's name. */
function runningVersion(pid: number | undefined, pattern: RegExp): string | undefined {
  if (pid === undefined) return undefined;
  try {
    return pattern.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Text with the user and password taken out of any URI in it. */
const withoutCredentials = (text: string): string => text.replace(/\/\/[^@/\s]*@/g, '//');

/**
 * Which store the benches used: the local FerretDB unless MONGODB_URI named one, told apart by
 * buildInfo, where FerretDB adds `ferretdbVersion`.
 */
async function storeInfo(stack: LocalStack): Promise<StoreInfo> {
  const uri = stack.endpoints.MONGODB_URI;
  const external = stack.store === undefined;
  const base = { endpoint: withoutCredentials(uri), external };
  let build: { version?: string; ferretdbVersion?: string } | undefined;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    build = await client.db('admin').command({ buildInfo: 1 });
  } catch {
    // not reachable now: what the configuration says
  } finally {
    await client.close();
  }
  const ferret = build ? 'ferretdbVersion' in build : !external;
  if (ferret) {
    const running = runningVersion(stack.store?.pid(), /ferretdb-(\d+\.\d+\.\d+)/);
    const version = external
      ? `${build?.ferretdbVersion ?? 'unknown'}`
      : `${FERRETDB_VERSION} (deploy/local/local-ferretdb.ts, SQLite backend${running && running !== FERRETDB_VERSION ? `; the running binary is ${running}` : ''})`;
    return { ...base, kind: 'FerretDB', version: `${version}; answers as MongoDB ${build?.version ?? '?'}` };
  }
  return { ...base, kind: build ? 'MongoDB' : 'unknown', version: build?.version ?? 'not reachable' };
}

function versions(stack: LocalStack, store: StoreInfo): Versions {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const status = git(['status', '--porcelain']);
  const changed = status === undefined ? null : status.split('\n').filter(Boolean).length;
  let kafka = 'external (KAFKA_BROKERS), version not read';
  if (stack.kafka) {
    const running = runningVersion(stack.kafka.pid(), /kafka-(\d+\.\d+\.\d+)/);
    kafka = `${KAFKA_VERSION} (deploy/local/local-kafka.ts, KRaft${running && running !== KAFKA_VERSION ? `; the running broker is ${running}` : ''})`;
  }
  return {
    node: process.version,
    lienthong: {
      version: pkg.version,
      commit: git(['rev-parse', '--short', 'HEAD']) ?? 'unknown',
      dirty: changed === null ? null : changed > 0,
      changedFiles: changed,
    },
    kafkajs: installed('kafkajs'),
    mongodb: installed('mongodb'),
    fastify: installed('fastify'),
    kafka,
    store,
  };
}

/** The local stack's processes now running, by component (a tree each: a JVM or Go may fork). */
function stackProcesses(stack: LocalStack): { name: string; pid: number }[] {
  return stack
    .status()
    .filter((c) => c.pid !== undefined)
    .map((c) => ({ name: c.name, pid: c.pid as number }));
}

interface BenchRun {
  bench: string;
  command: string;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  /** How busy the whole machine was during the bench, % of all cores: others may share it. */
  machineBusyPercent: number;
  loadAverageAfter: number[];
  result: BenchResult | null;
  /** The local stack's components: CPU during this bench, peak memory since they started. */
  stack: ProcessFigure[];
  /** Why there is no result, when there is none. */
  error?: string;
  /** What the bench printed to stdout: its own table. */
  output: string;
}

/** Runs one bench in a process of its own, forwarding its progress, and reads the figures it wrote. */
async function runBench(spec: BenchSpec, index: number, stack: LocalStack, dir: string): Promise<BenchRun> {
  const jsonPath = join(dir, `${spec.name}.json`);
  const args = ['--import', 'tsx', spec.script, ...spec.args];
  const command = `node ${args.join(' ')}`;
  const label = `${index + 1}/${BENCHES.length} ${spec.name}`;
  progress(`${label}: ${command}`);

  const stackBefore = new Map(
    stackProcesses(stack).map((p) => [p.pid, usageOf(p.name, p.pid, { tree: true })] as const),
  );
  const machineBefore = machineTicks();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, [BENCH_JSON_ENV]: jsonPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderrTail: string[] = [];
  let lastLine = performance.now();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      lastLine = performance.now();
      stderrTail = [...stderrTail.slice(-19), line];
      process.stderr.write(`[bench ${label} ${clock(performance.now() - started)}] ${line}\n`);
    });
  }
  const heartbeat = setInterval(() => {
    if (performance.now() - lastLine >= HEARTBEAT_MS) {
      lastLine = performance.now();
      progress(`${label}: running, ${clock(performance.now() - started)} so far`);
    }
  }, 1_000);
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    progress(`${label}: still running after ${clock(BENCH_TIMEOUT_MS)}, stopping it`);
    stopTree(child, stack);
  }, BENCH_TIMEOUT_MS);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((done) =>
    child.once('exit', (c, s) => done({ code: c, signal: s })),
  );
  clearTimeout(timeout);
  clearInterval(heartbeat);
  const seconds = (performance.now() - started) / 1_000;
  const machineAfter = machineTicks();

  let result: BenchResult | null = null;
  let error: string | undefined;
  if (existsSync(jsonPath)) result = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResult;
  if (timedOut) error = `stopped after ${clock(BENCH_TIMEOUT_MS)}`;
  else if (code !== 0) error = `ended with ${signal ?? `exit code ${code}`}`;
  if (error || !result) {
    error = withoutCredentials(
      `${error ?? 'wrote no figures'}; its last lines: ${stderrTail.slice(-5).join(' / ')}`,
    );
  }

  const after = stackProcesses(stack).map((p) => {
    const now = usageOf(p.name, p.pid, { tree: true });
    const before = stackBefore.get(p.pid);
    const cpuSeconds = now.cpuSeconds - (before?.cpuSeconds ?? 0);
    const span = before ? seconds : now.wallSeconds;
    return {
      ...now,
      name: `${p.name} (local stack)`,
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      wallSeconds: Math.round(span * 100) / 100,
      cpuPercent: span > 0 ? Math.round((100 * cpuSeconds) / span) : 0,
      note: before
        ? 'CPU during this bench; peak RSS since it started'
        : 'started during this bench; peak RSS since then',
    };
  });
  const busy = machineAfter.busy - machineBefore.busy;
  const total = Math.max(1, machineAfter.total - machineBefore.total);
  progress(
    `${label}: ${error ? `failed, ${error}` : 'done'} in ${clock(seconds * 1_000)}, machine ${Math.round((100 * busy) / total)}% busy`,
  );
  return {
    bench: spec.name,
    command,
    exitCode: code,
    signal,
    seconds: Math.round(seconds * 10) / 10,
    machineBusyPercent: Math.round((100 * busy) / total),
    loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100),
    result,
    stack: after,
    ...(error ? { error } : {}),
    // A bench prints the store's URI, which MONGODB_URI may give with a password.
    output: withoutCredentials(output),
  };
}

/**
 * Stops a bench that overran, with the services it started: SIGTERM to each process of its tree
 * (a bench does not always pass it on), then SIGKILL to what is left 15 s later. The local stack's
 * processes are spared, even when that bench started them.
 */
function stopTree(child: ChildProcess, stack: LocalStack): void {
  if (child.pid === undefined) return;
  const spared = new Set(stackProcesses(stack).flatMap((p) => processTree(p.pid)));
  const pids = processTree(child.pid).filter((pid) => !spared.has(pid));
  const signal = (name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
      } catch {
        // already ended
      }
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), 15_000).unref();
}

interface Report {
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  summary: { met: number; notMet: number; withoutTarget: number; failedBenches: string[] };
  machine: Machine;
  versions: Versions;
  benches: BenchRun[];
}

// Markdown ------------------------------------------------------------------------------------------

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`;
const number = (v: number): string =>
  v.toLocaleString('en-US', { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2 });

function measured(f: BenchFigure): string {
  if (f.value === null) return f.detail ?? 'not measured';
  const value = f.unit.startsWith('%') ? `${number(f.value)}${f.unit}` : `${number(f.value)} ${f.unit}`;
  return f.detail ? `${value} (${f.detail})` : value;
}

const verdict = (met: boolean | null): string => (met === null ? '' : met ? 'met' : '**not met**');

function processRow(bench: string, p: ProcessFigure): string {
  const mib = (v: number | null) => (v === null ? '?' : `${v} MiB`);
  return row([
    bench,
    p.note ? `${p.name}; ${p.note}` : p.name,
    String(p.pid),
    `${number(p.cpuSeconds)} s in ${number(p.wallSeconds)} s (${p.cpuPercent}% of a core)`,
    mib(p.peakRssMiB),
    mib(p.rssMiB),
  ]);
}

function markdown(r: Report): string {
  const m = r.machine;
  const v = r.versions;
  const l = v.lienthong;
  const dirty =
    l.dirty === null ? 'working tree unknown' : l.dirty ? `dirty, ${l.changedFiles} files changed` : 'clean';
  const lines = [
    `# lienthong benchmarks, ${r.mode} run`,
    '',
    `${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, ${clock(r.durationSeconds * 1_000)} in all (\`${r.command}\`). ` +
      `The benches ran one after another, each in a process of its own, on the local stack. ` +
      `Targets from DESIGN.md, "Performance targets". A benchmark measures and reports; it does not pass or fail.`,
    '',
    `**Targets: ${r.summary.met} met, ${r.summary.notMet} not met.**` +
      (r.summary.failedBenches.length > 0
        ? ` **Benches that failed: ${r.summary.failedBenches.join(', ')}.**`
        : ''),
    '',
    '## Figures',
    '',
    row(['bench', 'figure', 'measured', 'target', '']),
    '| --- | --- | --- | --- | --- |',
  ];
  for (const b of r.benches) {
    if (!b.result) lines.push(row([b.bench, 'no figures', b.error ?? '', '', '']));
    for (const f of b.result?.figures ?? [])
      lines.push(row([b.bench, f.name, measured(f), f.target ?? '', verdict(f.met)]));
  }
  lines.push(
    '',
    '## Machine',
    '',
    row(['', '']),
    '| --- | --- |',
    row(['CPU', `${m.cpuModel}, ${m.cpuCount} cores`]),
    row([
      'memory',
      `${number(m.memoryMiB / 1_024)} GiB, ${number(m.availableMemoryMiB / 1_024)} GiB available before the run`,
    ]),
    row(['OS', `${m.os}; ${m.kernel}`]),
    row(['load average before the run (1, 5, 15 min)', m.loadAverageBefore.join(', ')]),
    ...(m.referenceWorkMs
      ? [
          row([
            'reference work, CPU ms (test/bench/reference-work.ts; median of 3): before the run, after it',
            `${number(m.referenceWorkMs.before)}, ${number(m.referenceWorkMs.after)}: what a CPU second bought, to set absolute figures of runs side by side`,
          ]),
        ]
      : []),
    '',
    '## Versions',
    '',
    row(['component', 'version']),
    '| --- | --- |',
    row(['Node', v.node]),
    row(['lienthong', `${l.version} at ${l.commit} (${dirty})`]),
    row(['kafkajs', v.kafkajs]),
    row(['mongodb (driver)', v.mongodb]),
    row(['fastify', v.fastify]),
    row(['Kafka', v.kafka]),
    row([
      'store',
      `${v.store.kind} ${v.store.version}, ${v.store.external ? 'external (MONGODB_URI)' : 'local'} at ${v.store.endpoint}`,
    ]),
    '',
    '## Processes',
    '',
    'CPU is user and system time over the time shown; RSS is resident memory, its peak (VmHWM) and at the end.',
    '',
    row(['bench', 'process', 'pid', 'CPU', 'peak RSS', 'RSS at the end']),
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const b of r.benches) {
    for (const p of [...(b.result?.processes ?? []), ...b.stack]) lines.push(processRow(b.bench, p));
  }
  lines.push(
    '',
    '## Runs',
    '',
    row(['bench', 'command', 'time', 'exit', 'machine busy (all cores)', 'load average after', 'parameters']),
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const b of r.benches) {
    const params = Object.entries(b.result?.parameters ?? {})
      .map(([k, value]) => `${k} ${value}`)
      .join(', ');
    lines.push(
      row([
        b.bench,
        `\`${b.command}\``,
        clock(b.seconds * 1_000),
        b.signal ?? String(b.exitCode),
        `${b.machineBusyPercent}%`,
        b.loadAverageAfter.join(', '),
        params,
      ]),
    );
  }
  const notes = r.benches.flatMap((b) => [
    ...(b.error ? [`${b.bench}: ${b.error}`] : []),
    ...(b.result?.notes ?? []).map((n) => `${b.bench}: ${n}`),
  ]);
  if (notes.length > 0) lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}

// The run -------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const before = machine();
  progress(
    `${mode} run: ${BENCHES.map((b) => b.name).join(', ')}, one after another; load average ${before.loadAverageBefore.join(', ')}`,
  );
  const referenceBefore = await referenceWork();
  progress(`reference work: ${Math.round(referenceBefore)} ms of CPU (median of 3)`);
  const config = stackConfig();
  const stack = new LocalStack(config, () => undefined);
  // Built once here, if the sources changed, rather than inside the first bench's timing.
  prepareRun(config.LIENTHONG_RUN, progress);
  const scratch = scratchDir('bench-report');
  const runs: BenchRun[] = [];
  try {
    for (const [i, spec] of BENCHES.entries()) {
      runs.push(await runBench(spec, i, stack, scratch.path));
      progress(`total ${clock(performance.now())}`);
    }
  } finally {
    scratch.remove();
  }
  const referenceAfter = await referenceWork();
  progress(`reference work after the run: ${Math.round(referenceAfter)} ms of CPU (median of 3)`);
  const store = await storeInfo(stack);
  const finishedAt = new Date();
  const figures = runs.flatMap((b) => b.result?.figures ?? []);
  const report: Report = {
    mode,
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    summary: {
      met: figures.filter((f) => f.met === true).length,
      notMet: figures.filter((f) => f.met === false).length,
      withoutTarget: figures.filter((f) => f.met === null).length,
      failedBenches: runs.filter((b) => b.error).map((b) => b.bench),
    },
    machine: { ...before, referenceWorkMs: { before: referenceBefore, after: referenceAfter } },
    versions: versions(stack, store),
    benches: runs,
  };

  mkdirSync(RESULTS, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const json = join(RESULTS, `${stamp}-${mode}.json`);
  const md = join(RESULTS, `${stamp}-${mode}.md`);
  const text = markdown(report);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, text);
  copyFileSync(json, join(RESULTS, 'latest.json'));
  copyFileSync(md, join(RESULTS, 'latest.md'));
  process.stdout.write(`${text}\n`);
  process.stdout.write(
    `written: ${[json, md, join(RESULTS, 'latest.json'), join(RESULTS, 'latest.md')].map((p) => relative(ROOT, p)).join(', ')}\n`,
  );
  if (report.summary.failedBenches.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

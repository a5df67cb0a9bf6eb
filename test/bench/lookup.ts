/**
 * Lookup benchmark. It prints figures and asserts nothing.
 *
 * 1. The ceilings with no ingest, in rounds: the store's own point-read ceiling (a closed loop of
 *    `findOne` by `_id`, the reads a lookup makes, with its projections, at the same concurrency),
 *    then the lookup ceiling (officers of the traffic police, HN-PC08, look up the applicants of
 *    their open transfer dossiers, `GET /v1/citizens/{id}` with `X-Dossier-Id`, in a closed loop).
 *    Each round gives the ratio of the two, in one run: the lookup ceiling over the store's
 *    ceiling divided by the reads per answer. The reads and the audit inserts per answer come
 *    from the service's /metrics, its CPU per answer from /proc. Last in each round, the same
 *    closed loop drives the floor (lookup-floor.ts): fastify and the mongodb driver making the
 *    same two reads, with no auth, policy or audit, in a process of its own. Its CPU per answer
 *    is the least a Node process spends on such an answer, what the lookup service's CPU target
 *    is weighed against. The store's CPU is read from /proc in the store's phase and in the
 *    lookup's, with the machine's and the other processes': its CPU per read and per answer, and
 *    the lookup ceiling the CPU left to it allows, show whether the store's CPU bounds the lookup
 *    ceiling on a machine it shares with the lookup service and the load generator.
 * 2. With ingest: the same lookups on a fixed schedule (open loop) at 70 % of the median lookup
 *    ceiling (`--rate` sets another) for `--seconds`, while a steady stream of other events
 *    (`--ingest-rate`, default 400/s) is published to Kafka and materialized by the sharing
 *    service. Latency counts from each request's scheduled send, so a stall is not hidden by the
 *    requests it held back, and a request never answered counts as a miss; every 200 is checked
 *    to be the subject and dossier asked for. Before the open loop, with the ingest already
 *    running, a closed loop like the ceiling's measures what the machine answers with that ingest
 *    beside: a schedule above it cannot have a bounded latency. The open loop starts once the views
 *    are back within a second of the stream.
 *
 * Before them, the load generator is checked against a server that answers at once, to show what
 * it adds itself on this machine; CPU by process is reported, since the machine may be shared.
 * Per-second progress goes to stderr, the figures to stdout.
 *
 * Run with `npm run bench:lookup` (`-- --quick` for 8 s phases and fewer citizens; `--rate N`,
 * `--seconds N`, `--citizens N`, `--ingest-rate N`, `--connections N`, `--round-seconds N`,
 * `--audit-records N` for a trail of N records before the run: with `--citizens`, the shape of
 * growth). It brings the local stack
 * up if needed and runs the sharing and lookup services as processes of their own, on topics and
 * a database of the run's own, which it removes at the end. With LIENTHONG_BENCH_JSON set, it also
 * writes its figures there as JSON, for `npm run bench` (report-format.ts). With
 * LIENTHONG_BENCH_CPU_PROF=<dir>, the lookup service runs under `node --cpu-prof` and writes its
 * profile there as it stops.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import ts from 'typescript';
import { type Histogram } from 'hdr-histogram-js';
import { generateDemoCitizens } from '../../connectors/demo/generator';
import { taxCodeCheckDigit } from '../../connectors/runtime/identifiers';
import { compiledEntry, prepareRun } from '../../deploy/local/service-entry';
import { stackConfig } from '../../deploy/local/stack';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { lookupGrants } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { auditTopicDeclaration } from '../../services/lookup/audit-relay';
import { LINEAGE_GROUP_PREFIX } from '../../services/lookup/event-fetcher';
import { DEFAULT_POLICY_FILE } from '../../services/lookup/config';
import { BINDING_FIELDS } from '../../services/lookup/dossier-binding';
import { loadFieldPolicies, sectionsRead } from '../../services/lookup/field-policy';
import { projectionOf } from '../../services/lookup/view-reader';
import { readCatalog } from '../../services/sharing/view-catalog';
import { grantAcls, kafkaEnvOf, testConnection } from '../support/kafka';
import { ensureDevKeys, readPrivateKey } from '../../services/lookup/dev-keys';
import { mintToken } from '../../services/lookup/tokens';
import { registryKey } from '../support/connector';
import { generateEventStream, type StreamEvent } from '../support/event-stream';
import { scratchDir } from '../support/fixtures';
import { sharingHarness } from '../support/sharing';
import { citizen, DAY, envelope, T0 } from '../support/story';
import { benchStack } from './bench-stack';
import { type LoadTarget, openLoop, type OpenLoopResult, percentileOfScheduled } from './lookup-load';
import { fillTrail } from './audit-fill';
import { FLOOR_READS_ENV, type LookupReads, type ReadShape } from './lookup-floor';
import { cpuMeter, type CpuUse, memoryOf, ownUsage, usageOf } from './process-usage';
import {
  benchChildren,
  cpuProfileOptions,
  killChildrenOnInterrupt,
  type ServiceProcess,
  startService,
} from './service-process';
import {
  atLeast,
  atMost,
  type BenchFigure,
  type BenchResult,
  figure,
  type ProcessFigure,
  writeBenchResult,
} from './report-format';

/** How the services run: compiled, as `npm start` runs them, unless LIENTHONG_RUN=source. */
const RUN = stackConfig().LIENTHONG_RUN;
/** DESIGN.md's lookup targets. */
const TARGET_P99_MS = 50;
/** The open loop's rate, as a share of the lookup ceiling measured in the same run. */
const OPEN_LOOP_SHARE = 0.7;
const TARGET_CEILING_RATIO = 0.8;
const TARGET_READS_PER_ANSWER = 2;
const TARGET_INSERTS_PER_ANSWER = 1 / 8;
const TARGET_CPU_MS_PER_ANSWER = 0.5;
/** How the services and the floor run (see {@link transpileFloor}), said beside their figures. */
const RUN_NOTE = RUN === 'compiled' ? 'node dist/…js' : 'node --import tsx: includes the TypeScript loader';
/** The floor's sources, from the root: its entry point first. */
const FLOOR_SOURCES = ['test/bench/lookup-floor-main.ts', 'test/bench/lookup-floor.ts'];

/**
 * The floor compiled where `compiledEntry` looks for it (`dist/test/bench/`), so that it runs as
 * the lookup service does: under tsx its CPU per answer would count the loader's, and the
 * lookup's would be weighed against a higher floor (the ingest path spent 1.27 times the CPU of
 * its compiled build under tsx). The services' build leaves `test/` out, and the image builds
 * from the services' folders only, so the bench transpiles the floor's two files itself, with the
 * compiler options of `tsconfig.json`.
 */
function transpileFloor(): void {
  const root = resolve(__dirname, '..', '..');
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  for (const source of FLOOR_SOURCES) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, source), 'utf8'), {
      compilerOptions: { ...options, sourceMap: false },
      fileName: source,
    });
    const target = compiledEntry(source);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
}
/** Rounds of (store ceiling, lookup ceiling, floor), whose medians are reported. */
const ROUNDS = 3;
const PROCEDURE = '1.010700';
const AGENCY = 'HN-PC08';
const OFFICERS = 40;
const TOKEN_ISSUER = 'lienthong-bench';
const TOKEN_AUDIENCE = 'lienthong-lookup';
/** Events published before the measured load starts, so that it meets a busy consumer. */
const INGEST_LEAD_SECONDS = 2;
/** How long the open loop waits for the views to catch up after the closed loop with ingest. */
const KEEP_UP_SECONDS = 30;

const args = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    citizens: { type: 'string' },
    'ingest-rate': { type: 'string' },
    connections: { type: 'string' },
    'round-seconds': { type: 'string' },
    'audit-records': { type: 'string' },
  },
}).values;
const quick = args.quick === true;
/** The open loop's rate when given; else 70 % of the measured ceiling. */
const FIXED_RATE = args.rate === undefined ? undefined : positive('rate', args.rate, 0);
const SECONDS = positive('seconds', args.seconds, quick ? 8 : 20);
/** Each ceiling phase of a round. */
const ROUND_SECONDS = positive('round-seconds', args['round-seconds'], quick ? 4 : 8);
const CITIZENS = Math.round(positive('citizens', args.citizens, quick ? 1_000 : 5_000));
const INGEST_RATE = positive('ingest-rate', args['ingest-rate'], 400);
/** Connections of the open-loop pool, and of the closed loop that finds the ceiling. */
const CONNECTIONS = Math.round(positive('connections', args.connections, 128));
const CEILING_CONNECTIONS = Math.min(CONNECTIONS, 64);
/** Records already in the trail when the lookup service opens it: the cost of a long trail. */
const AUDIT_RECORDS_BEFORE =
  args['audit-records'] === undefined ? 0 : Math.round(positive('audit-records', args['audit-records'], 0));

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${value}`);
  return n;
}

const log = (line: string): void => {
  process.stderr.write(`[bench:lookup] ${line}\n`);
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const digits = (n: number, width: number): string => String(n).padStart(width, '0');

/** A citizen with an open transfer dossier at HN-PC08, a vehicle and a personal tax code. */
interface Applicant {
  citizenId: string;
  dossierId: string;
  plate: string;
  taxCode: string;
}

/**
 * `count` applicants and their events: the dossier's reception, the citizen's tax registration
 * and debt, and a vehicle registered in their name. Dossier ids are dated 31 Dec 2030 and plates
 * are of series 40LD, which the background stream's generator never makes, so no background
 * event touches them.
 */
function applicants(count: number): { applicants: Applicant[]; events: StreamEvent[] } {
  const people = generateDemoCitizens(20_301_231, count);
  const out: Applicant[] = [];
  const events: StreamEvent[] = [];
  let taxSeq = 0;
  const nextTaxCode = (): string => {
    for (;;) {
      const first9 = `80${digits(taxSeq, 7)}`;
      taxSeq += 1;
      const check = taxCodeCheckDigit(first9);
      if (check !== undefined) return `${first9}${check}`;
    }
  };
  people.forEach((person, i) => {
    const serial = digits(i, 5);
    const a: Applicant = {
      citizenId: person.cccd,
      dossierId: `000.40.31.H26-301231-${digits(i + 1, 6)}`,
      plate: `40LD-${serial.slice(0, 3)}.${serial.slice(3)}`,
      taxCode: nextTaxCode(),
    };
    out.push(a);
    const at = T0 + i * 1_000;
    const ids = { citizenIds: [a.citizenId] };
    events.push(
      {
        topic: 'tax',
        key: a.taxCode,
        event: {
          ...envelope('tax', `MST-${a.taxCode}`, 1, at, ids),
          eventType: 'TaxpayerRegistered',
          payload: {
            'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
              taxCode: a.taxCode,
              kind: 'INDIVIDUAL',
              name: person.fullName,
              citizenId: a.citizenId,
              enterpriseCode: null,
              managingTaxOffice: `Chi cục Thuế khu vực ${person.district.name}`,
              registeredAt: at,
            },
          },
        },
      },
      {
        topic: 'tax',
        key: a.taxCode,
        event: {
          ...envelope('tax', `MST-${a.taxCode}`, 2, at + DAY, ids),
          eventType: 'TaxDebtUpdated',
          payload: {
            'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
              taxCode: a.taxCode,
              amount: String((i % 7) * 250_000),
              asOf: at + DAY,
            },
          },
        },
      },
      {
        topic: 'vehicle',
        key: a.plate,
        event: {
          ...envelope('vehicle', `DKX-BENCH-${serial}`, 1, at + 2 * DAY, { ...ids, plates: [a.plate] }),
          eventType: 'VehicleRegistered',
          payload: {
            'vn.hanoi.lienthong.vehicle.VehicleRegistered': {
              plate: a.plate,
              frameNumber: `RLHBENCH${digits(i, 9)}`,
              engineNumber: `BE${digits(i, 8)}`,
              kind: 'MOTORCYCLE',
              brand: 'Honda',
              model: 'Vision',
              owner: citizen(a.citizenId),
              registeredAt: at + 2 * DAY,
            },
          },
        },
      },
      {
        topic: 'dossier',
        key: a.dossierId,
        event: {
          ...envelope('dossier', `HS-BENCH-${serial}`, 1, at + 3 * DAY, {
            ...ids,
            dossierIds: [a.dossierId],
          }),
          eventType: 'DossierReceived',
          payload: {
            'vn.hanoi.lienthong.dossier.DossierReceived': {
              dossierId: a.dossierId,
              procedureCode: PROCEDURE,
              procedureName: 'Đăng ký sang tên xe',
              applicant: citizen(a.citizenId),
              receivingAgency: AGENCY,
              channel: 'DESK',
              receivedAt: at + 3 * DAY,
              dueAt: at + 13 * DAY,
            },
          },
        },
      },
    );
  });
  return { applicants: out, events };
}

/** The same request to the floor (lookup-floor.ts), which answers the citizen document itself. */
function floorLookupOf(a: Applicant, token: string): LoadTarget {
  return {
    ...lookupOf(a, token),
    check(_headers, body) {
      try {
        return (JSON.parse(body) as { _id?: string })._id === a.citizenId;
      } catch {
        return false;
      }
    },
  };
}

/** The lookup an officer makes for an applicant, and what its answer must say. */
function lookupOf(a: Applicant, token: string): LoadTarget {
  return {
    path: `/v1/citizens/${a.citizenId}`,
    headers: { authorization: `Bearer ${token}`, 'x-dossier-id': a.dossierId },
    check(headers, body) {
      if (headers['x-audit-record'] === undefined) return false;
      try {
        const answer = JSON.parse(body) as {
          subject?: { id?: string };
          dossierId?: string;
          data?: { identity?: { citizenId?: string }; vehicles?: { plate?: string }[] };
        };
        return (
          answer.subject?.id === a.citizenId &&
          answer.dossierId === a.dossierId &&
          answer.data?.identity?.citizenId === a.citizenId &&
          (answer.data.vehicles ?? []).some((v) => v.plate === a.plate)
        );
      } catch {
        return false;
      }
    },
  };
}

/** Lookups at 100/s for 3 s, well below the ceiling, so that no backlog is left for the measured phases. */
async function warmUp(origin: string, targets: readonly LoadTarget[]): Promise<void> {
  log(`warm-up of ${origin}: 100 lookups/s for 3 s`);
  await openLoop({
    origin,
    connections: CONNECTIONS,
    rate: 100,
    seconds: 3,
    targets,
    maxOutstanding: 10_000,
    drainMs: 10_000,
  });
}

/** Events the sharing service has consumed so far (applied, no-ops and dead letters), from its metrics. */
async function consumedBy(sharing: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${sharing.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('sharing_events_total{')) total += Number(line.split(' ').pop());
  return total;
}

/** Publishes `events` at `rate` a second, a tenth of a second's worth at a time, until stopped. */
function startIngest(
  harness: ReturnType<typeof sharingHarness>,
  events: readonly StreamEvent[],
  rate: number,
) {
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1_000));
  const started = performance.now();
  let published = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < events.length; i += perTick) {
      const slice = events.slice(i, i + perTick);
      await harness.publish(slice);
      published += slice.length;
      await sleep(Math.max(0, started + (i / perTick + 1) * tickMs - performance.now()));
    }
  })();
  return {
    published: () => published,
    async stop(): Promise<{ published: number; seconds: number }> {
      running = false;
      await loop;
      return { published, seconds: (performance.now() - started) / 1_000 };
    },
  };
}

/**
 * Waits until the sharing service, with the stream still flowing, is less than a second of it
 * behind: the seconds it took, or undefined when it was not within `timeoutMs`.
 */
async function keepingUp(
  harness: ReturnType<typeof sharingHarness>,
  rate: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const { committed, total } = await harness.progress();
    if (total - committed <= rate) return (performance.now() - started) / 1_000;
    log(`  the sharing service is ${total - committed} messages behind`);
    await sleep(1_000);
  }
  return undefined;
}

/** Waits until the sharing service has committed every message of its topics. */
async function caughtUp(
  harness: ReturnType<typeof sharingHarness>,
  what: string,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  let last = 0;
  for (;;) {
    const { committed, total } = await harness.progress();
    if (committed >= total) return (performance.now() - started) / 1_000;
    if (performance.now() - started > timeoutMs)
      throw new Error(
        `the sharing service took ${committed} of ${total} events of ${what} in ${timeoutMs / 1_000} s`,
      );
    if (performance.now() - last > 3_000) {
      last = performance.now();
      log(`  ${what}: ${committed}/${total} events applied`);
    }
    await sleep(500);
  }
}

/**
 * The open loop at the full rate against a server that answers at once, in a Node process of its
 * own: what the generator itself adds to latency and how well it keeps its schedule on this
 * machine right now. A first second, not counted, warms it up.
 */
async function generatorSelfCheck(rate: number): Promise<OpenLoopResult> {
  const server = spawn(
    process.execPath,
    [
      '-e',
      "require('node:http').createServer((q, s) => s.end('{}')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  benchChildren.add(server);
  try {
    const port = await new Promise<string>((done, fail) => {
      server.once('exit', () => fail(new Error('the no-op server ended before it listened')));
      createInterface({ input: server.stdout as NodeJS.ReadableStream }).once('line', done);
    });
    const run = (seconds: number) =>
      openLoop({
        origin: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        rate,
        seconds,
        targets: [{ path: '/', headers: {}, check: () => true }],
        maxOutstanding: 10_000,
        drainMs: 5_000,
      });
    await run(1);
    return await run(3);
  } finally {
    server.kill('SIGKILL');
    benchChildren.delete(server);
  }
}

/** The same lookups in a closed loop, as fast as the service answers them. */
async function ceiling(url: string, targets: readonly LoadTarget[], connections: number, seconds: number) {
  let next = 0;
  let wrong = 0;
  let answered = 0;
  let second = 0;
  let finish: (result: autocannon.Result) => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((done, reject) => {
    finish = done;
    fail = reject;
  });
  const instance = autocannon(
    {
      url,
      connections,
      duration: seconds,
      requests: [
        {
          setupRequest: (request, context) => {
            const target = targets[next++ % targets.length] as LoadTarget;
            (context as { target?: LoadTarget }).target = target;
            return { ...request, method: 'GET', path: target.path, headers: target.headers };
          },
          onResponse: (status, body, context, headers) => {
            answered += 1;
            const target = (context as { target?: LoadTarget }).target;
            if (status === 200 && !target?.check(headers ?? {}, body)) wrong += 1;
          },
        },
      ],
    },
    (err, result) => (err ? fail(err) : finish(result)),
  );
  let before = 0;
  instance.on('tick', () => {
    second += 1;
    log(`  ceiling ${second}s: ${answered - before} answers/s`);
    before = answered;
  });
  const result = await finished;
  return { result, wrong };
}

/** What the lookup service's /metrics count of its store use (app.ts), and its answers. */
const LOOKUP_COUNTERS = {
  reads: 'lookup_view_reads_total',
  inserts: 'lookup_audit_inserts_total',
  // An answer is sent once it is audited: its record counts it.
  answers: 'lookup_audit_records_total',
} as const;
/** What the floor's /metrics count (lookup-floor.ts). */
const FLOOR_COUNTERS = { reads: 'floor_reads_total', answers: 'floor_answers_total' } as const;
/** Counters a server's /metrics are read for, by the name they are given here. */
type CounterNames<K extends string> = Record<K | 'reads' | 'answers', string>;

async function countersOf<K extends string>(
  url: string,
  names: CounterNames<K>,
): Promise<Record<K | 'reads' | 'answers', number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return Number(line?.split(' ').pop() ?? Number.NaN);
  };
  const entries = Object.entries<string>(names).map(([key, name]) => [key, value(name)]);
  return Object.fromEntries(entries) as Record<K | 'reads' | 'answers', number>;
}

/** The counters once they stopped moving: every request in flight answered (and audited). */
async function drained<K extends string>(url: string, names: CounterNames<K>) {
  let last = await countersOf(url, names);
  for (const started = performance.now(); performance.now() - started < 15_000;) {
    await sleep(250);
    const now = await countersOf(url, names);
    if (now.answers === last.answers && now.reads === last.reads) return now;
    last = now;
  }
  return last;
}

/**
 * The closed loop of {@link ceiling} against `url`, and the CPU it took: over the load alone, for
 * shares of a core, and until the server's counters settled, for the CPU per answer. The requests
 * autocannon leaves in flight are answered all the same, so every count, CPU included, is taken
 * once they are, and divided by the answers the server counted.
 */
async function meteredCeiling<K extends string>(
  url: string,
  targets: readonly LoadTarget[],
  names: CounterNames<K>,
  ours: Record<number, string>,
) {
  const before = await countersOf(url, names);
  const cpu = cpuMeter(ours);
  const top = await ceiling(url, targets, CEILING_CONNECTIONS, ROUND_SECONDS);
  const load = cpu();
  const after = await drained(url, names);
  const used = cpu();
  const counted = (key: K | 'reads' | 'answers') => after[key] - before[key];
  const answers = Math.max(1, counted('answers'));
  return {
    top,
    load,
    used,
    answers: counted('answers'),
    answersPerSecond: top.result['2xx'] / top.result.duration,
    perAnswer: (key: K | 'reads' | 'answers') => counted(key) / answers,
    /** CPU ms per answer of the processes of this role. */
    cpuMsPerAnswer: (name: string) => (1_000 * used.seconds(name)) / answers,
  };
}

/** One point read as a lookup makes it: the collection, the `_id` and the projection. */
type PointRead = ReadShape & { id: string };

/**
 * The store's own point-read ceiling: `connections` loops, each reading the next of `reads` by
 * `_id` as soon as the last one came back, for `seconds`, over a client of its own (the driver's
 * default pool of 100, as the service has), and the CPU it took.
 */
async function storeCeiling(
  reads: readonly PointRead[],
  connections: number,
  seconds: number,
  ours: Record<number, string>,
) {
  const client = new MongoClient(process.env.MONGODB_URI as string);
  await client.connect();
  try {
    const db = client.db(harnessDbName);
    let next = 0;
    let done = 0;
    let errors = 0;
    const cpu = cpuMeter(ours);
    const started = performance.now();
    const until = started + seconds * 1_000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const read = reads[next++ % reads.length] as PointRead;
          try {
            await db
              .collection(read.collection)
              .findOne({ _id: read.id as never }, { projection: read.projection });
            done += 1;
          } catch {
            errors += 1;
          }
        }
      }),
    );
    const used = cpu();
    const elapsed = (performance.now() - started) / 1_000;
    return { readsPerSecond: done / elapsed, reads: done, errors, cpu: used };
  } finally {
    await client.close();
  }
}

/**
 * The answers/s the store's CPU allows: the CPU the machine had left once every other process took
 * its share, spent at the store's CPU per answer. With the CPU the store did use instead, the
 * quotient would give back the measured rate by construction; with the CPU left to it, a rate near
 * the measured one says the store's CPU is the bound, and one well above it says it is not.
 */
function storeAllows(use: CpuUse, storeMsPerAnswer: number): number {
  const cores = cpus().length;
  const others = use.machineBusyPercent * cores - use.percentOfCore('store');
  // % of a core is 10 ms of CPU a second.
  return (10 * (100 * cores - others)) / storeMsPerAnswer;
}

/** One round: the store's ceiling, the lookup's and the floor's, and where the CPU went in each. */
interface CeilingRound {
  loadBefore: number[];
  store: { readsPerSecond: number; errors: number; cpu: CpuUse; cpuMsPerRead: number };
  lookup: { result: autocannon.Result; wrong: number };
  answers: number;
  answersPerSecond: number;
  readsPerAnswer: number;
  insertsPerAnswer: number;
  cpuMsPerAnswer: number;
  /** CPU until every answer was audited. */
  cpu: CpuUse;
  /** CPU over the lookup load alone, for shares of a core. */
  loadCpu: CpuUse;
  /** The lookup ceiling over (the store's ceiling / reads per answer). */
  ratio: number;
  /** The store's CPU per lookup answer, its reads and the audit's writes, ms. */
  storeCpuMsPerAnswer: number;
  /** The lookup answers/s the CPU left to the store allows (see {@link storeAllows}). */
  storeAllows: number;
  floor: {
    answersPerSecond: number;
    readsPerAnswer: number;
    cpuMsPerAnswer: number;
    /** The store's CPU per floor answer: the two reads alone, ms. */
    storeCpuMsPerAnswer: number;
    wrong: number;
    loadCpu: CpuUse;
  };
  /** The lookup service's CPU per answer over the floor's. */
  floorRatio: number;
}

/** What a round drives: the lookup service and the floor, with their requests, and the store. */
interface CeilingRun {
  lookup: ServiceProcess;
  floor: ServiceProcess;
  targets: readonly LoadTarget[];
  floorTargets: readonly LoadTarget[];
  reads: readonly PointRead[];
  ours: Record<number, string>;
}

async function ceilingRound(round: number, run: CeilingRun): Promise<CeilingRound> {
  const { ours } = run;
  const loadBefore = loadavg();
  log(
    `round ${round}: load average ${loadBefore.map((l) => l.toFixed(2)).join(', ')}; store ceiling, ${CEILING_CONNECTIONS} loops of findOne by _id, ${ROUND_SECONDS} s`,
  );
  // The store's CPU is known only when this run's stack runs it (not with MONGODB_URI set).
  const storeMs = (seconds: number, count: number) =>
    Object.values(ours).includes('store') ? (1_000 * seconds) / Math.max(1, count) : Number.NaN;
  const read = await storeCeiling(run.reads, CEILING_CONNECTIONS, ROUND_SECONDS, ours);
  const store = { ...read, cpuMsPerRead: storeMs(read.cpu.seconds('store'), read.reads) };
  log(`  store: ${Math.round(store.readsPerSecond)} point reads/s; ${read.cpu.summary}`);
  log(`round ${round}: lookup ceiling, closed loop, ${CEILING_CONNECTIONS} connections, ${ROUND_SECONDS} s`);
  const top = await meteredCeiling(run.lookup.url, run.targets, LOOKUP_COUNTERS, ours);
  log(`round ${round}: floor, the same closed loop`);
  const floor = await meteredCeiling(run.floor.url, run.floorTargets, FLOOR_COUNTERS, ours);
  const readsPerAnswer = top.perAnswer('reads');
  const storeCpuMsPerAnswer = storeMs(top.used.seconds('store'), top.answers);
  const result: CeilingRound = {
    loadBefore,
    store,
    lookup: top.top,
    answers: top.answers,
    answersPerSecond: top.answersPerSecond,
    readsPerAnswer,
    insertsPerAnswer: top.perAnswer('inserts'),
    cpuMsPerAnswer: top.cpuMsPerAnswer('lookup'),
    cpu: top.used,
    loadCpu: top.load,
    ratio: top.answersPerSecond / (store.readsPerSecond / Math.max(1, readsPerAnswer)),
    storeCpuMsPerAnswer,
    storeAllows: storeAllows(top.load, storeCpuMsPerAnswer),
    floor: {
      answersPerSecond: floor.answersPerSecond,
      readsPerAnswer: floor.perAnswer('reads'),
      cpuMsPerAnswer: floor.cpuMsPerAnswer('floor'),
      storeCpuMsPerAnswer: storeMs(floor.used.seconds('store'), floor.answers),
      wrong: floor.top.wrong,
      loadCpu: floor.load,
    },
    floorRatio: top.cpuMsPerAnswer('lookup') / floor.cpuMsPerAnswer('floor'),
  };
  log(
    `  lookup: ${Math.round(result.answersPerSecond)} answers/s, ${fixed(readsPerAnswer)} reads and ${fixed(result.insertsPerAnswer)} audit inserts per answer, ${fixed(result.cpuMsPerAnswer)} ms CPU per answer; ratio ${(100 * result.ratio).toFixed(0)} %; ${top.load.summary}`,
  );
  log(
    `  floor: ${Math.round(floor.answersPerSecond)} answers/s, ${fixed(result.floor.cpuMsPerAnswer)} ms CPU per answer; ${floor.load.summary}`,
  );
  return result;
}

/**
 * The reads a lookup makes, with the same projections: the dossier, projected to what binds it,
 * and the citizen, projected to the sections the procedure's policy returns.
 */
async function lookupReads(): Promise<LookupReads> {
  const client = new MongoClient(process.env.MONGODB_URI as string);
  await client.connect();
  try {
    const collections = await readCatalog(client.db(harnessDbName));
    const rules = loadFieldPolicies(DEFAULT_POLICY_FILE).find(PROCEDURE, AGENCY)?.views.citizens ?? {};
    return {
      dossier: { collection: collections.dossiers, projection: projectionOf(BINDING_FIELDS) },
      citizen: {
        collection: collections.citizens,
        projection: projectionOf(sectionsRead('citizens', rules)),
      },
    };
  } finally {
    await client.close();
  }
}

/** The reads of a lookup of each applicant, in turn. */
function pointReads(people: readonly Applicant[], shapes: LookupReads): PointRead[] {
  return people.flatMap((a) => [
    { ...shapes.dossier, id: a.dossierId },
    { ...shapes.citizen, id: a.citizenId },
  ]);
}

/** The median of `values` (the lower middle one of an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** The database of the run, set once the harness has it: the store ceiling reads its views. */
let harnessDbName = '';

// HDR reports a bucket's highest value, which can exceed the largest one recorded.
const ms = (h: Histogram, p: number): string =>
  fixed(Math.min(h.getValueAtPercentile(p), h.maxValue) / 1_000);
const fixed = (v: number): string =>
  !Number.isFinite(v) ? 'n/a' : v >= 100 ? String(Math.round(v)) : v.toFixed(v >= 10 ? 1 : 2);
const counts = (map: Map<string | number, number>): string =>
  [...map].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';

/**
 * Phase 1: the background stream published and materialized while the lookups run open loop at
 * the full rate. The stream starts a little ahead, and runs on while the last answers drain.
 */
async function withIngest(run: {
  harness: ReturnType<typeof sharingHarness>;
  sharing: ServiceProcess;
  lookup: ServiceProcess;
  targets: readonly LoadTarget[];
  ours: Record<number, string>;
  rate: number;
}) {
  const { harness, sharing, lookup, targets, rate } = run;
  const streamSeconds = INGEST_LEAD_SECONDS + ROUND_SECONDS + KEEP_UP_SECONDS + SECONDS + 15;
  const background = generateEventStream(Math.ceil(INGEST_RATE * streamSeconds), 23);
  log(`with ingest: ${INGEST_RATE} events/s in the background, ${INGEST_LEAD_SECONDS} s ahead`);
  const ingest = startIngest(harness, background, INGEST_RATE);
  await sleep(INGEST_LEAD_SECONDS * 1_000);
  // What the machine answers with this ingest beside: a rate scheduled above it has no bounded
  // latency, whatever the service does. Then the views catch up before the open loop starts.
  log(`with ingest: lookup ceiling, closed loop, ${CEILING_CONNECTIONS} connections, ${ROUND_SECONDS} s`);
  const closed = await meteredCeiling(lookup.url, targets, LOOKUP_COUNTERS, run.ours);
  log(`  ${Math.round(closed.answersPerSecond)} answers/s; ${closed.load.summary}`);
  const keptUp = await keepingUp(harness, INGEST_RATE, KEEP_UP_SECONDS * 1_000);
  let consumed = await consumedBy(sharing);
  let consumedBefore = consumed;
  const consumedAtStart = consumed;
  const publishedAtStart = ingest.published();
  let publishedBefore = publishedAtStart;
  const poller = setInterval(() => {
    consumedBy(sharing).then(
      (n) => (consumed = n),
      () => undefined,
    );
  }, 1_000);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const cpu = cpuMeter(run.ours);
  const started = performance.now();
  log(`with ingest: ${rate} lookups/s, open loop, for ${SECONDS} s, ${CONNECTIONS} connections`);
  const result = await openLoop({
    origin: lookup.url,
    connections: CONNECTIONS,
    rate,
    seconds: SECONDS,
    targets,
    maxOutstanding: 10_000,
    drainMs: 15_000,
    onSecond: (s) => {
      const published = ingest.published();
      log(
        `  ${String(s.second).padStart(3)}s: sent ${s.sent}, answered ${s.answered} (${s.ok} ok, ${s.notOk} not), ` +
          `${s.errors} errors, ${s.dropped} dropped, ${s.outstanding} outstanding, p99 ${fixed(s.p99Ms)} ms, ` +
          `lag max ${fixed(s.maxLagMs)} ms; ingest +${published - publishedBefore} published, +${consumed - consumedBefore} applied`,
      );
      publishedBefore = published;
      consumedBefore = consumed;
    },
  });
  const cpu1 = cpu();
  delay.disable();
  clearInterval(poller);
  const loadSeconds = (performance.now() - started) / 1_000;
  const consumedDuring = (await consumedBy(sharing)) - consumedAtStart;
  const publishedDuring = ingest.published() - publishedAtStart;
  const ingested = await ingest.stop();
  log(
    `  ${ingested.published} background events published in ${ingested.seconds.toFixed(1)} s; waiting for the sharing service`,
  );
  return {
    withIngest: result,
    closedWithIngest: {
      answersPerSecond: closed.answersPerSecond,
      p99: closed.top.result.latency.p99,
      load: closed.load,
      keptUp,
    },
    loadSeconds,
    ingest: { published: publishedDuring, consumed: consumedDuring },
    eventLoop: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
    cpu1,
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  log(`load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}`);
  const stack = await benchStack(log);
  prepareRun(RUN, log);

  const scratch = scratchDir('bench-lookup');
  const keys = ensureDevKeys(scratch.path);
  const signingKey = readPrivateKey(keys.tokenSigningKey);
  const harness = sharingHarness({ partitions: 6, batchSize: 500 });
  const services: ServiceProcess[] = [];
  let reported = false;
  let result: BenchResult | undefined;
  killChildrenOnInterrupt(log);
  await harness.setUp();
  // The lookup service's audit topic and ACLs, made by the operator as for the bus's own.
  const auditTopic = `${harness.topicPrefix}lookup.audit`;
  await withAdmin(testConnection(), 'bench-topics', (admin) =>
    ensurePolicyTopics(admin, [auditTopicDeclaration(auditTopic)]),
  );
  await grantAcls(
    lookupGrants(SERVICE_PRINCIPALS.lookup, {
      domainTopics: Object.values(harness.topics),
      auditTopic,
      lineageGroupPrefix: LINEAGE_GROUP_PREFIX,
    }),
  );
  log(`this run's database ${harness.dbName} and topics ${harness.topicPrefix}*, removed at the end`);
  harnessDbName = harness.dbName;
  try {
    const data = applicants(CITIZENS);
    log(`publishing ${data.events.length} events: ${CITIZENS} citizens with an open dossier at ${AGENCY}`);
    await harness.publish(data.events);

    const registry = {
      SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
      SCHEMA_REGISTRY_KEY: registryKey('lienthong-reader'),
    };
    // This run's changes topic among the rest, which the harness counts in its progress: with the
    // bus's own, the run went on once the domain topics were routed, before the views were written.
    const sharing = await startService('sharing', 'services/sharing/main.ts', harness.serviceEnv(), {
      mode: RUN,
    });
    services.push(sharing);
    const preloadSeconds = await caughtUp(harness, 'the citizens', 600_000);
    log(`  applied in ${preloadSeconds.toFixed(1)} s`);

    if (AUDIT_RECORDS_BEFORE > 0) {
      log(`filling the trail with ${AUDIT_RECORDS_BEFORE} records before the lookup service opens it`);
      const client = new MongoClient(process.env.MONGODB_URI as string);
      try {
        const to = AUDIT_RECORDS_BEFORE;
        await fillTrail(client.db(harness.dbName), { from: 1, to, total: to }, log);
      } finally {
        await client.close();
      }
    }
    const lookup = await startService(
      'lookup',
      'services/lookup/main.ts',
      {
        ...registry,
        ...kafkaEnvOf(SERVICE_PRINCIPALS.lookup),
        MONGODB_DB: harness.dbName,
        LOOKUP_JWT_KEYS_FILE: keys.tokenPublicKeys,
        LOOKUP_JWT_ISSUER: TOKEN_ISSUER,
        LOOKUP_JWT_AUDIENCE: TOKEN_AUDIENCE,
        LOOKUP_AUDIT_SEAL_KEY_FILE: keys.auditSealKey,
        LOOKUP_AUDIT_TOPIC: auditTopic,
        // The highest limits the config takes: the bench measures lookups, not the rate limiter.
        LOOKUP_RATE_CLIENT_PER_MINUTE: '100000000',
        LOOKUP_RATE_OFFICER_PER_MINUTE: '10000000',
        LOOKUP_RATE_AGENCY_PER_MINUTE: '100000000',
      },
      {
        mode: RUN,
        nodeOptions: cpuProfileOptions(),
      },
    );
    services.push(lookup);

    const tokens = Array.from({ length: OFFICERS }, (_, i) =>
      mintToken(
        signingKey,
        { sub: `CB-PC08-${digits(i + 1, 3)}`, role: 'officer', agency: AGENCY },
        { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, ttlSeconds: 3_600 },
      ),
    );
    // A fixed shuffle, so that consecutive lookups read documents far apart.
    const order = data.applicants.map((a, i) => ({ a, k: (i * 2_654_435_761) % 4_294_967_296 }));
    order.sort((x, y) => x.k - y.k);
    const targets = order.map(({ a }, i) => lookupOf(a, tokens[i % OFFICERS] as string));

    const first = targets[0] as LoadTarget;
    const probe = await fetch(`${lookup.url}${first.path}`, { headers: first.headers });
    const probeBody = await probe.text();
    if (probe.status !== 200 || !first.check(Object.fromEntries(probe.headers), probeBody)) {
      throw new Error(`a first lookup was answered ${probe.status}: ${probeBody.slice(0, 500)}`);
    }

    const shapes = await lookupReads();
    if (RUN === 'compiled') transpileFloor();
    const floor = await startService(
      'floor',
      FLOOR_SOURCES[0] as string,
      { MONGODB_DB: harness.dbName, [FLOOR_READS_ENV]: JSON.stringify(shapes) },
      { mode: RUN },
    );
    services.push(floor);
    const floorTargets = order.map(({ a }, i) => floorLookupOf(a, tokens[i % OFFICERS] as string));

    await warmUp(lookup.url, targets);
    await warmUp(floor.url, floorTargets);

    // Phase 1: the ceilings, no ingest, in rounds of the store's, the lookup's and the floor's.
    const storePid = stack.store?.pid();
    const ours = {
      [lookup.pid]: 'lookup',
      [sharing.pid]: 'sharing',
      [floor.pid]: 'floor',
      [process.pid]: 'bench',
      ...(storePid === undefined ? {} : { [storePid]: 'store' }),
    };
    const reads = pointReads(
      order.map(({ a }) => a),
      shapes,
    );
    // What the lookup process spends with nothing to answer (Kafka clients, relay, timers).
    const idleMeter = cpuMeter(ours);
    await sleep(3_000);
    const idle = idleMeter();
    const rounds: CeilingRound[] = [];
    for (let round = 1; round <= ROUNDS; round += 1)
      rounds.push(await ceilingRound(round, { lookup, floor, targets, floorTargets, reads, ours }));
    const ceilingRate = median(rounds.map((r) => r.answersPerSecond));
    const rate = FIXED_RATE ?? Math.max(1, Math.round(OPEN_LOOP_SHARE * ceilingRate));

    log(`load generator self-check: ${rate} requests/s for 1 + 3 s against a no-op server`);
    const selfCheck = await generatorSelfCheck(rate);

    // Phase 2: the open loop at 70 % of the ceiling, with ingest.
    const loadBeforeIngest = loadavg();
    const phase1 = await withIngest({ harness, sharing, lookup, targets, ours, rate });
    const catchUp = await caughtUp(harness, 'the background stream', 300_000);

    const lookupMemory = memoryOf(lookup.pid);
    const sharingMemory = memoryOf(sharing.pid);
    const figures: Report = {
      ...phase1,
      ingest: { ...phase1.ingest, catchUp },
      rate,
      rounds,
      idleCpuPercent: idle.percentOfCore('lookup'),
      loadBefore,
      loadBeforeIngest,
      memory: { lookup: lookupMemory, sharing: sharingMemory },
      services,
      preloadSeconds,
      selfCheck,
    };
    report(figures);
    result = resultOf(figures, [
      usageOf('lookup service (services/lookup/main.ts)', lookup.pid, { note: RUN_NOTE }),
      usageOf('sharing service (services/sharing/main.ts)', sharing.pid, { note: RUN_NOTE }),
      usageOf('floor: fastify + driver (test/bench/lookup-floor-main.ts)', floor.pid, { note: RUN_NOTE }),
      ownUsage('bench:lookup (load generator and producer)'),
    ]);
    for (const service of services) service.newLogs();
    reported = true;
  } finally {
    for (const service of [...services].reverse()) {
      await service.stop();
      const { warn, error, samples } = service.newLogs();
      // Printed with the figures: what the stop itself logged (SIGTERM, then SIGKILL after 15 s).
      if (reported && warn + error > 0) {
        const line = `while stopping, the ${service.name} service logged ${warn} warnings and ${error} errors, first: ${samples.join(' | ')}`;
        process.stdout.write(`${line}\n`);
        result?.notes.push(line);
      }
    }
    const admin = harness.kafka.admin();
    try {
      await admin.connect();
      const ours = (await admin.listTopics()).filter((t) => t.startsWith(harness.topicPrefix));
      await admin.deleteTopics({ topics: ours });
      await admin.deleteGroups([harness.groupId]);
    } catch (err) {
      log(`could not remove the run's topics: ${(err as Error).message}`);
    } finally {
      await admin.disconnect();
    }
    await harness.tearDown();
    scratch.remove();
  }
  if (result) writeBenchResult(result);
}

interface Report {
  withIngest: OpenLoopResult;
  /** The closed loop with the ingest beside it; `keptUp`, the views' catch-up after it, s. */
  closedWithIngest: { answersPerSecond: number; p99: number; load: CpuUse; keptUp: number | undefined };
  loadSeconds: number;
  ingest: { published: number; consumed: number; catchUp: number };
  eventLoop: { p99: number; max: number };
  cpu1: CpuUse;
  /** The open loop's rate: 70 % of the median ceiling, or `--rate`. */
  rate: number;
  rounds: CeilingRound[];
  /** The lookup process's CPU with nothing to answer, % of a core. */
  idleCpuPercent: number;
  /** 1, 5 and 15 minute load averages before the run, and before the open loop. */
  loadBefore: number[];
  loadBeforeIngest: number[];
  selfCheck: OpenLoopResult;
  memory: Record<string, { peak: number; now: number } | undefined>;
  services: ServiceProcess[];
  preloadSeconds: number;
}

const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(', ');
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
/** The medians of a run's rounds. */
function medians(r: Report) {
  const of = (f: (round: CeilingRound) => number) => median(r.rounds.map(f));
  return {
    store: of((x) => x.store.readsPerSecond),
    lookup: of((x) => x.answersPerSecond),
    reads: of((x) => x.readsPerAnswer),
    inserts: of((x) => x.insertsPerAnswer),
    cpu: of((x) => x.cpuMsPerAnswer),
    ratio: of((x) => x.ratio),
    p99: of((x) => x.lookup.result.latency.p99),
    floorRate: of((x) => x.floor.answersPerSecond),
    floorReads: of((x) => x.floor.readsPerAnswer),
    floorStore: of((x) => x.floor.storeCpuMsPerAnswer),
    floorCpu: of((x) => x.floor.cpuMsPerAnswer),
    floorRatio: of((x) => x.floorRatio),
    storeMsPerRead: of((x) => x.store.cpuMsPerRead),
    storeMsPerAnswer: of((x) => x.storeCpuMsPerAnswer),
    storeShareOwn: of((x) => x.store.cpu.percentOfCore('store')),
    storeShare: of((x) => x.loadCpu.percentOfCore('store')),
    busyOwn: of((x) => x.store.cpu.machineBusyPercent),
    busy: of((x) => x.loadCpu.machineBusyPercent),
    lookupShare: of((x) => x.loadCpu.percentOfCore('lookup')),
    benchShare: of((x) => x.loadCpu.percentOfCore('bench')),
    sharingShare: of((x) => x.loadCpu.percentOfCore('sharing')),
    storeAllows: of((x) => x.storeAllows),
    allowed: of((x) => x.answersPerSecond / x.storeAllows),
    // The ceiling ratio is about the product of these two: the store's CPU in the lookup ceiling
    // over its CPU in its own, and the CPU an answer's reads take at the store ceiling's cost per
    // read over what the store spends per lookup answer.
    storeShareFactor: of((x) => x.loadCpu.percentOfCore('store') / x.store.cpu.percentOfCore('store')),
    storeCostFactor: of((x) => (x.store.cpuMsPerRead * x.readsPerAnswer) / x.storeCpuMsPerAnswer),
  };
}

/** What the rounds say of the store's CPU and of the floor: table lines, a round each and the medians. */
function cpuLines(r: Report): string[] {
  const m = medians(r);
  const share = (v: number) => `${Math.round(v)} %`;
  const where = (x: CeilingRound) => [
    fixed(x.store.cpuMsPerRead),
    share(x.store.cpu.percentOfCore('store')),
    `${x.store.cpu.machineBusyPercent} %`,
    fixed(x.storeCpuMsPerAnswer),
    share(x.loadCpu.percentOfCore('store')),
    ['lookup', 'bench', 'sharing'].map((name) => share(x.loadCpu.percentOfCore(name))).join(' / '),
    `${x.loadCpu.machineBusyPercent} %`,
    String(Math.round(x.storeAllows)),
    pct(x.answersPerSecond / x.storeAllows),
  ];
  const floor = (x: CeilingRound) => [
    String(Math.round(x.floor.answersPerSecond)),
    fixed(x.floor.readsPerAnswer),
    fixed(x.floor.cpuMsPerAnswer),
    fixed(x.cpuMsPerAnswer),
    `${fixed(x.floorRatio)}×`,
    fixed(x.floor.storeCpuMsPerAnswer),
    fixed(x.storeCpuMsPerAnswer),
  ];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `where the CPU went, from /proc: CPU per read and per answer until every answer was counted, % of a core over the load alone (a round's figures are from that round; the medians are of the rounds):`,
    '',
    row([
      'round',
      'store CPU ms / point read, store ceiling',
      'store CPU, store ceiling',
      'machine busy, store ceiling',
      'store CPU ms / answer, lookup ceiling',
      'store CPU, lookup ceiling',
      'lookup / bench (load generator) / sharing CPU, lookup ceiling',
      'machine busy, lookup ceiling',
      `lookup answers/s the store's CPU allows: CPU the other processes left it (${cpus().length} cores) ÷ store CPU per answer`,
      'lookup ceiling ÷ that',
    ]),
    row(Array.from({ length: 10 }, () => '---')),
    ...r.rounds.map((x, i) => row([String(i + 1), ...where(x)])),
    row([
      '**median**',
      fixed(m.storeMsPerRead),
      share(m.storeShareOwn),
      `${m.busyOwn} %`,
      fixed(m.storeMsPerAnswer),
      share(m.storeShare),
      [m.lookupShare, m.benchShare, m.sharingShare].map(share).join(' / '),
      `${m.busy} %`,
      String(Math.round(m.storeAllows)),
      pct(m.allowed),
    ]),
    '',
    `the ceiling ratio, lookup ÷ (store ÷ reads), ${pct(m.ratio)}, is about the product of two factors (medians of ratios from the same round): the store's CPU in the lookup ceiling over its CPU in its own, ${pct(m.storeShareFactor)}, and the CPU the reads of an answer take at the store ceiling's CPU per read over the store's CPU per lookup answer, ${pct(m.storeCostFactor)}; product ${pct(m.storeShareFactor * m.storeCostFactor)}.`,
    '',
    `the floor: fastify and the mongodb driver making the same two reads, no auth, policy or audit (${RUN_NOTE}), driven by the same closed loop right after the lookup ceiling. It has no target: the lookup's CPU target (≤ ${TARGET_CPU_MS_PER_ANSWER} ms) is weighed against it.`,
    '',
    row([
      'round',
      'floor answers 200/s',
      'floor reads / answer',
      'floor CPU ms / answer',
      'lookup CPU ms / answer',
      'lookup ÷ floor, same round',
      'store CPU ms / answer, floor',
      'store CPU ms / answer, lookup',
    ]),
    row(Array.from({ length: 8 }, () => '---')),
    ...r.rounds.map((x, i) => row([String(i + 1), ...floor(x)])),
    row([
      '**median**',
      String(Math.round(m.floorRate)),
      fixed(m.floorReads),
      fixed(m.floorCpu),
      fixed(m.cpu),
      `${fixed(m.floorRatio)}×`,
      fixed(m.floorStore),
      fixed(m.storeMsPerAnswer),
    ]),
    '',
  ];
}

function report(r: Report): void {
  const w = r.withIngest;
  const g = r.selfCheck;
  const m = medians(r);
  const mem = (x: { peak: number; now: number } | undefined) =>
    x ? `${x.peak} MiB peak (VmHWM), ${x.now} MiB at the end` : 'not readable';
  const ofAll = (p: number) => {
    const v = percentileOfScheduled(w, p);
    return v === undefined ? 'never answered' : `${fixed(v / 1_000)} ms`;
  };
  const failed = w.scheduled - w.answered;
  const achieved = Math.round(w.answered / w.elapsed);
  const busy = Math.max(...r.loadBefore.slice(0, 1)) > cpus().length;
  const lines = [
    '',
    `lookup benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} cores, store ${process.env.MONGODB_URI}`,
    `load average before the run ${loads(r.loadBefore)}${busy ? ' (WARNING: the machine was busy before the run)' : ''}; before the open loop ${loads(r.loadBeforeIngest)}`,
    `${CITIZENS} citizens with an open ${PROCEDURE} dossier at ${AGENCY} (applied in ${r.preloadSeconds.toFixed(1)} s), ` +
      `${OFFICERS} officers; GET /v1/citizens/{id} with X-Dossier-Id, each answer audited before it is sent` +
      `; ${AUDIT_RECORDS_BEFORE} audit records before the run`,
    '',
    `ceilings, no ingest, ${ROUNDS} rounds of ${ROUND_SECONDS} s each, ${CEILING_CONNECTIONS} connections (ratios are from the same round):`,
    '',
    `| round | load before | store point reads/s | lookup answers 200/s | p99 ms | reads / answer | audit inserts / answer | lookup CPU ms / answer | lookup ÷ (store ÷ reads) |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...r.rounds.map(
      (x, i) =>
        `| ${i + 1} | ${loads(x.loadBefore)} | ${Math.round(x.store.readsPerSecond)}${x.store.errors ? ` (${x.store.errors} errors)` : ''} | ${Math.round(x.answersPerSecond)} | ${x.lookup.result.latency.p99} | ${fixed(x.readsPerAnswer)} | ${x.insertsPerAnswer.toFixed(3)} (1 per ${fixed(1 / Math.max(x.insertsPerAnswer, 1e-9))}) | ${fixed(x.cpuMsPerAnswer)} | ${pct(x.ratio)} |`,
    ),
    `| idle, for comparison | | | | | | | ${fixed(r.idleCpuPercent * 10)} ms per second | |`,
    `| **median** | | ${Math.round(m.store)} | ${Math.round(m.lookup)} | ${m.p99} | ${fixed(m.reads)} | ${m.inserts.toFixed(3)} | ${fixed(m.cpu)} | ${pct(m.ratio)} |`,
    `| target | | | | | ≤ ${TARGET_READS_PER_ANSWER} | ≤ ${TARGET_INSERTS_PER_ANSWER} (1 per 8) | ≤ ${TARGET_CPU_MS_PER_ANSWER} | ≥ ${pct(TARGET_CEILING_RATIO)} |`,
    '',
    ...r.rounds.map((x, i) => {
      const c = x.lookup.result;
      const statuses = Object.entries(c.statusCodeStats ?? {})
        .map(([code, st]) => `${code}: ${st.count ?? 0}`)
        .join(', ');
      return `round ${i + 1}: answers by status ${statuses || 'none'}; wrong 200s ${x.lookup.wrong}, the floor's ${x.floor.wrong}; errors ${c.errors}, timeouts ${c.timeouts}; ${x.answers} audited answers; CPU in the store ceiling ${x.store.cpu.summary}; in the lookup ceiling ${x.loadCpu.summary}; in the floor's ${x.floor.loadCpu.summary}`;
    }),
    '',
    ...cpuLines(r),
    `| figure | measured | target |`,
    `| --- | --- | --- |`,
    `| load generator self-check: ${r.rate}/s for 3 s against a no-op server in a process of its own | latency p50 / p99 ${ms(g.latency, 50)} / ${ms(g.latency, 99)} ms, send lag p99 / max ${ms(g.lag, 99)} / ${fixed(g.lag.maxValue / 1_000)} ms, ${Math.round(g.answered / g.elapsed)} answers/s | |`,
    `| **with ingest**: closed loop first, ${CEILING_CONNECTIONS} connections, ${ROUND_SECONDS} s | ${Math.round(r.closedWithIngest.answersPerSecond)} answers 200/s, p99 ${r.closedWithIngest.p99} ms; ${r.closedWithIngest.load.summary}; the views within a second of the stream ${r.closedWithIngest.keptUp === undefined ? `not within ${KEEP_UP_SECONDS} s` : `${r.closedWithIngest.keptUp.toFixed(1)} s`} after it | |`,
    `| **with ingest**: open loop, scheduled | ${r.rate} lookups/s (${FIXED_RATE === undefined ? `${pct(OPEN_LOOP_SHARE)} of the median ceiling, ${Math.round(m.lookup)}/s` : 'set by --rate'}) for ${SECONDS} s (${w.scheduled}), ${CONNECTIONS} connections | ${pct(OPEN_LOOP_SHARE)} of the ceiling |`,
    `| latency p50 / p99 / p99.9 of all ${w.scheduled} scheduled, from the scheduled send, the ${failed} never answered counted slowest | ${ofAll(50)} / ${ofAll(99)} / ${ofAll(99.9)} | p99 ≤ ${TARGET_P99_MS} ms |`,
    `| latency p50 / p99 / p99.9 / max of the ${w.answered} answered | ${ms(w.latency, 50)} / ${ms(w.latency, 99)} / ${ms(w.latency, 99.9)} / ${fixed(w.latency.maxValue / 1_000)} ms | |`,
    `| achieved | ${achieved} answers/s (${w.answered} in ${w.elapsed.toFixed(1)} s); sent ${Math.round(w.sent / Math.max(w.sendElapsed, 1e-3))}/s | ${r.rate}/s |`,
    `| answers by status | ${counts(w.statuses)} | all 200 |`,
    `| wrong 200 answers (other subject or dossier, no audit record) | ${w.wrong} | 0 |`,
    `| not answered: errors; dropped (10,000 outstanding); outstanding 15 s after the last send | ${counts(w.errors)}; ${w.dropped}; ${w.unanswered} | 0 |`,
    `| service time p50 / p99 / p99.9, from the actual send (includes waiting for a free connection) | ${ms(w.serviceTime, 50)} / ${ms(w.serviceTime, 99)} / ${ms(w.serviceTime, 99.9)} ms | |`,
    `| load generator: send lag behind schedule p99 / max; its event loop delay p99 / max | ${ms(w.lag, 99)} / ${fixed(w.lag.maxValue / 1_000)} ms; ${fixed(r.eventLoop.p99)} / ${fixed(r.eventLoop.max)} ms | |`,
    `| ingest during the load | ${Math.round(r.ingest.published / r.loadSeconds)} events/s published, ${Math.round(r.ingest.consumed / r.loadSeconds)} events/s applied; caught up ${r.ingest.catchUp.toFixed(1)} s after the load | ${INGEST_RATE} events/s |`,
    `| CPU during the load | ${r.cpu1.summary}; the lookup process used ${fixed((1_000 * r.cpu1.seconds('lookup')) / Math.max(1, w.answered))} ms of CPU per answer | |`,
    `| lookup process RSS (${RUN}) | ${mem(r.memory.lookup)} | ≤ 256 MiB |`,
    `| sharing process RSS (same) | ${mem(r.memory.sharing)} | ≤ 256 MiB |`,
    '',
  ];
  for (const s of r.services) {
    const ended = s.crashed();
    if (ended) lines.push(`the ${s.name} service ended during the run: ${ended}`);
    if (s.logs.warn + s.logs.error > 0) {
      lines.push(
        `the ${s.name} service logged ${s.logs.warn} warnings and ${s.logs.error} errors, first: ${s.logs.samples.join(' | ')}`,
      );
    }
  }
  process.stdout.write(lines.join('\n'));
}

/** The figures of {@link report}, for the combined report (report-format.ts). */
function resultOf(r: Report, processes: ProcessFigure[]): BenchResult {
  const w = r.withIngest;
  const c = r.closedWithIngest;
  const m = medians(r);
  const at = (h: Histogram, p: number) => Math.min(h.getValueAtPercentile(p), h.maxValue) / 1_000;
  const cpuOf = (use: CpuUse, name: string) => `${Math.round(use.percentOfCore(name))} %`;
  const ofAll = percentileOfScheduled(w, 99);
  const condition =
    FIXED_RATE === undefined ? '' : ` (at ${r.rate}/s set by --rate, not 70 % of the ceiling)`;
  const p99 = atMost(TARGET_P99_MS, `≤ ${TARGET_P99_MS} ms at 70 % of the ceiling, every request answered`);
  const rss = atMost(256, '≤ 256 MiB');
  const notOk = [...w.statuses].reduce((n, [status, count]) => (status === 200 ? n : n + count), 0);
  const cpuShare = (name: string) => Math.round(r.cpu1.percentOfCore(name));
  const sameRun = 'median of the rounds; a ratio from the same round';
  // Shares of a core are over the load alone; CPU per read or answer is counted until all were done.
  const perUnit = 'median of the rounds; absolute';
  const share = 'median of the rounds; over the load alone';
  const figures: BenchFigure[] = [
    figure('ceiling: store point reads, closed loop, findOne by _id (absolute)', m.store, 'reads/s'),
    figure('ceiling: lookup, closed loop (absolute)', m.lookup, 'answers 200/s'),
    figure(
      'ceiling: lookup over (store ceiling ÷ reads per answer), same run',
      100 * m.ratio,
      '%',
      atLeast(100 * TARGET_CEILING_RATIO, '≥ 80 %'),
      sameRun,
    ),
    figure('ceiling: store reads per answer', m.reads, 'reads', atMost(TARGET_READS_PER_ANSWER, '≤ 2')),
    figure(
      'ceiling: audit inserts per answer',
      m.inserts,
      'inserts',
      atMost(TARGET_INSERTS_PER_ANSWER, '≤ 1 per 8 answers'),
    ),
    figure(
      'ceiling: lookup process CPU per answer',
      m.cpu,
      'ms',
      atMost(TARGET_CPU_MS_PER_ANSWER, '≤ 0.5 ms'),
      `${RUN_NOTE}; the floor below used ${fixed(m.floorCpu)} ms in the same rounds`,
    ),
    figure(
      'floor: fastify + driver, the same two reads, CPU per answer',
      m.floorCpu,
      'ms',
      undefined,
      `${RUN_NOTE}; no auth, policy or audit; median of the rounds; no target: the lookup's ≤ 0.5 ms is weighed against it`,
    ),
    figure("lookup CPU per answer over the floor's", m.floorRatio, '×', undefined, sameRun),
    figure('floor: answers, closed loop (absolute)', m.floorRate, 'answers 200/s', undefined, RUN_NOTE),
    figure(
      'floor: store CPU per answer (absolute)',
      m.floorStore,
      'ms',
      undefined,
      `${perUnit}; the two reads alone, to set beside the store's CPU per lookup answer`,
    ),
    figure(
      'ceiling: store CPU per point read, in the store ceiling (absolute)',
      m.storeMsPerRead,
      'ms',
      undefined,
      perUnit,
    ),
    figure(
      'ceiling: store CPU per lookup answer, in the lookup ceiling (absolute)',
      m.storeMsPerAnswer,
      'ms',
      undefined,
      `${perUnit}; the answer's reads and the audit's writes`,
    ),
    // Where the CPU went while the store's ceiling and the lookup's were measured.
    ...(
      [
        ['ceiling: store CPU, in the store ceiling', m.storeShareOwn, '% of a core'],
        ['ceiling: store CPU, in the lookup ceiling', m.storeShare, '% of a core'],
        ['ceiling: machine busy, in the store ceiling', m.busyOwn, '% of all cores'],
        ['ceiling: machine busy, in the lookup ceiling', m.busy, '% of all cores'],
        ['ceiling: lookup process CPU, in the lookup ceiling', m.lookupShare, '% of a core'],
        ['ceiling: bench process (load generator) CPU, in the lookup ceiling', m.benchShare, '% of a core'],
        ['ceiling: sharing process CPU, in the lookup ceiling', m.sharingShare, '% of a core'],
      ] as const
    ).map(([name, value, unit]) => figure(name, value, unit, undefined, share)),
    figure(
      "ceiling: lookups the store's CPU allows, CPU the other processes left it ÷ its CPU per answer",
      m.storeAllows,
      'answers/s',
      undefined,
      `${perUnit}, on ${cpus().length} cores`,
    ),
    figure(
      "ceiling: lookup ceiling over the ceiling the store's CPU allows",
      100 * m.allowed,
      '%',
      undefined,
      `${sameRun}; near 100 % the store's CPU is the bound`,
    ),
    figure(
      'ceiling: store CPU in the lookup ceiling over its CPU in its own ceiling',
      100 * m.storeShareFactor,
      '%',
      undefined,
      `${sameRun}; a factor of the ceiling ratio`,
    ),
    figure(
      "ceiling: store CPU of an answer's reads, at its own ceiling's cost per read, over its CPU per lookup answer",
      100 * m.storeCostFactor,
      '%',
      undefined,
      `${sameRun}; the other factor of the ceiling ratio`,
    ),
    figure('ceiling: latency p99', m.p99, 'ms'),
    figure(`with ingest: lookups scheduled, open loop${condition}`, r.rate, 'requests/s'),
    figure(
      'with ingest: lookup ceiling, closed loop, the same ingest beside it, before the open loop',
      c.answersPerSecond,
      'answers 200/s',
      undefined,
      `absolute, same run; p99 ${c.p99} ms; machine ${c.load.machineBusyPercent} % busy, store ${cpuOf(c.load, 'store')}, lookup ${cpuOf(c.load, 'lookup')}, sharing ${cpuOf(c.load, 'sharing')} of a core`,
    ),
    figure(
      'with ingest: lookups scheduled over that ceiling',
      (100 * r.rate) / c.answersPerSecond,
      '%',
      undefined,
      'a ratio from the same run; above 100 % the schedule asks more than the machine answers with this ingest beside, and the queue, with its latency, grows as long as the load lasts',
    ),
    figure(
      'with ingest: the views within a second of the stream, after that closed loop',
      c.keptUp ?? null,
      's',
      undefined,
      c.keptUp === undefined
        ? `not within ${KEEP_UP_SECONDS} s: the open loop started with the views behind`
        : 'the open loop starts then',
    ),
    // A request never answered is slower than any answer: the target fails when p99 falls among them.
    ofAll === undefined
      ? {
          ...figure(`with ingest: latency p99 of all scheduled${condition}`, null, 'ms', p99),
          met: false,
          detail: 'falls among the requests never answered',
        }
      : figure(`with ingest: latency p99 of all scheduled${condition}`, ofAll / 1_000, 'ms', p99),
    figure('with ingest: latency p50 of the answered, from the scheduled send', at(w.latency, 50), 'ms'),
    figure('with ingest: answered', w.answered / w.elapsed, 'answers/s'),
    figure(
      'with ingest: not answered (errors, dropped, outstanding 15 s after the last send)',
      w.scheduled - w.answered,
      'requests',
      atMost(0, '0'),
    ),
    figure('with ingest: answers other than 200', notOk, 'answers', atMost(0, 'all 200')),
    figure(
      'with ingest: wrong 200 answers (other subject or dossier, no audit record)',
      w.wrong,
      'answers',
      atMost(0, '0'),
    ),
    figure('with ingest: events published during the load', r.ingest.published / r.loadSeconds, 'events/s'),
    figure('with ingest: events applied during the load', r.ingest.consumed / r.loadSeconds, 'events/s'),
    figure('with ingest: sharing service caught up after the load', r.ingest.catchUp, 's'),
    figure('with ingest: CPU of the lookup process', cpuShare('lookup'), '% of a core'),
    figure('with ingest: CPU of the sharing process', cpuShare('sharing'), '% of a core'),
    figure('with ingest: CPU of the bench process', cpuShare('bench'), '% of a core'),
    figure('with ingest: machine busy', r.cpu1.machineBusyPercent, '% of all cores'),
    figure(
      'load generator self-check: latency p99 against a no-op server',
      at(r.selfCheck.latency, 99),
      'ms',
    ),
    figure('lookup service RSS at the end (steady state)', r.memory.lookup?.now ?? null, 'MiB', rss),
    figure('sharing service RSS at the end (steady state)', r.memory.sharing?.now ?? null, 'MiB', rss),
  ];
  const notes: string[] = [`load average before the run: ${loads(r.loadBefore)}`];
  for (const s of r.services) {
    const ended = s.crashed();
    if (ended) notes.push(`the ${s.name} service ended during the run: ${ended}`);
    if (s.logs.warn + s.logs.error > 0) {
      notes.push(
        `the ${s.name} service logged ${s.logs.warn} warnings and ${s.logs.error} errors, first: ${s.logs.samples.join(' | ')}`,
      );
    }
  }
  return {
    bench: 'lookup',
    mode: quick ? 'quick' : 'full',
    parameters: {
      rate: r.rate,
      seconds: SECONDS,
      roundSeconds: ROUND_SECONDS,
      rounds: ROUNDS,
      citizens: CITIZENS,
      auditRecordsBefore: AUDIT_RECORDS_BEFORE,
      ingestRate: INGEST_RATE,
      connections: CONNECTIONS,
      ceilingConnections: CEILING_CONNECTIONS,
      officers: OFFICERS,
      preloadSeconds: Math.round(r.preloadSeconds * 10) / 10,
    },
    figures,
    processes,
    notes,
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:lookup failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

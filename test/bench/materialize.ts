/**
 * Materialization benchmark. It prints figures and asserts nothing.
 *
 * 1. The store's own ceiling: unordered bulk upserts by `_id` of view-sized documents, in commands
 *    of STORE_WRITE_CHUNK, as fast as the store takes them.
 * 2. The sharing service applying a filled topic: events/s and view documents written/s, from
 *    start to the last commit; rounds on fresh topics and databases, median reported.
 * 3. Freshness at half that rate: events published at a steady rate; for one in ten, the time from
 *    Kafka's acknowledgement (the moment a connector answers 200) to the store's acknowledgement
 *    of the write that makes the event visible in its view document, as the service tells its
 *    writes in its trace file (`SHARING_TRACE_FILE`: each command's documents, the source records'
 *    versions they hold, when it was sent and when acknowledged): the bench polls nothing, so its
 *    probes add no reads to the store's work.
 * 4. The same store commands without the service: the last round's own documents, met once each
 *    (a point read finding nothing, then an upsert of the whole document) and then rewritten (an
 *    upsert changing one field, which FerretDB answers by rewriting the whole document), timed
 *    alone against the store. From those costs and a round's counts of reads and writes, the
 *    store time the round needed on its own, over the round's time: how much of the round the
 *    store alone accounts for; the same for the freshness phase, beside the writer's time in
 *    rounds there. The store's CPU is metered in each phase, since it serializes its writes on
 *    one SQLite connection.
 *
 * The sharing service runs as it is deployed: a process of its own, compiled (`node dist/…js`;
 * LIENTHONG_RUN=source runs the sources under tsx), started afresh for each round and for the
 * freshness phase; a round's time counts from the moment it said it was ready.
 *
 * Run with `npm run bench:materialize` (`-- --quick` for a short run); it brings the local stack
 * up if needed. With LIENTHONG_BENCH_JSON set, it also writes its figures there as JSON, for
 * `npm run bench` (report-format.ts).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { type Db, MongoClient } from 'mongodb';
import { prepareRun } from '../../deploy/local/service-entry';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { testKafkaEnv } from '../support/test-stack';
import { runContractTool } from '../../schemas/contract-tool';
import { type RoundStage } from '../../services/sharing/materializer';
import { VIEW_NAMES, type ViewDoc, type ViewName } from '../../services/sharing/projection';
import { readCatalog } from '../../services/sharing/view-catalog';
import { type SharingTraceEntry } from '../../services/sharing/sharing-service';
import { createViewStore, STORE_WRITE_CHUNK } from '../../services/sharing/view-store';
import { generateEventStream, type StreamEvent } from '../support/event-stream';
import { scratchDir } from '../support/fixtures';
import { sharingHarness } from '../support/sharing';
import { median } from './connector-process';
import { besideCpuLoad } from './cpu-load';
import { cpuMeter, type CpuUse, memoryOf, ownUsage, usageOf } from './process-usage';
import { atLeast, atMost, figure, type ProcessFigure, writeBenchResult } from './report-format';
import {
  cpuProfileOptions,
  killChildrenOnInterrupt,
  type ServiceProcess,
  startService,
} from './service-process';

const quick = process.argv.includes('--quick');
/**
 * `--direct`: the service applies the domain topics' events itself, as one instance alone may;
 * by default it routes them through its changes topic, as it runs (see the README's several
 * instances), and the difference between the two is what the added hop costs.
 */
const routed = !process.argv.includes('--direct');
const ROUNDS = quick ? 1 : 3;
const EVENTS = quick ? 4_000 : 12_000;
const CEILING_DOCS = quick ? 4_000 : 10_000;
const FRESHNESS_SECONDS = quick ? 10 : 30;
/** The freshness phase at a tenth of the rate, for comparison. */
const LOW_RATE_SECONDS = quick ? 10 : 20;
/** How the service runs: compiled, as `npm start` runs it, unless LIENTHONG_RUN=source. */
const RUN = stackConfig().LIENTHONG_RUN;
/** DESIGN.md's bound on every service's memory. */
const TARGET_RSS_MIB = 256;

const fmtMs = (ms: number | null): string => (ms === null ? 'none' : `${Math.round(ms)} ms`);

const log = (line: string): void => {
  process.stderr.write(`[bench:materialize] ${line}\n`);
};

/** Raw upserts per second, on documents about the size of a citizen's view document. */
async function storeCeiling(uri: string): Promise<number> {
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(`bench_ceiling_${Date.now()}`);
  const collection = db.collection<{ _id: string }>('docs');
  // Every pass writes new values: an update that changes nothing costs the store far less.
  const section = (i: number, pass: number) => ({
    name: `Công ty TNHH ${i}`,
    status: 'OPERATING',
    source: {
      agency: 'HN-DKKD',
      topic: 'business-registration',
      partition: i % 6,
      offset: String(i),
      eventId: `e-${i}-${pass}`,
    },
  });
  const rates: number[] = [];
  try {
    // The collection first, then a pause: the local store's _id index (deploy/local/ferretdb/id-index.go)
    // is added within a second of a collection's creation, and must not land mid-measurement.
    await collection.insertOne({ _id: 'first' });
    await new Promise((r) => setTimeout(r, 1_500));
    for (const [n, pass] of ['insert', 'update', 'update'].entries()) {
      const started = performance.now();
      for (let i = 0; i < CEILING_DOCS; i += STORE_WRITE_CHUNK) {
        const ops = [];
        for (let k = i; k < Math.min(CEILING_DOCS, i + STORE_WRITE_CHUNK); k += 1) {
          ops.push({
            updateOne: {
              filter: { _id: `d${k}` },
              update: { $set: { 'sections.company': section(k, n), identity: { id: k } } },
              upsert: true,
            },
          });
        }
        await collection.bulkWrite(ops, { ordered: false });
      }
      const rate = CEILING_DOCS / ((performance.now() - started) / 1000);
      log(`  ceiling, ${pass} pass: ${Math.round(rate)} upserts/s`);
      rates.push(rate);
    }
  } finally {
    await db.dropDatabase();
    await client.close();
  }
  return median(rates);
}

/** What a round did, from the service's counts: the store's reads and the documents written. */
interface RoundWork extends ServiceCounts {
  seconds: number;
  /** The documents in the views at the end, each met once. */
  documents: ViewDoc[][];
  cpu: CpuUse;
}

/** The parts of a round, in their order (RoundStage). */
const ROUND_STAGES: readonly RoundStage[] = ['catalog', 'load', 'apply', 'dependents', 'write'];

interface ServiceCounts {
  /** The store's reads of view documents, and those of them made ahead of their round. */
  reads: number;
  readAhead: number;
  /** View documents written. */
  written: number;
  /** Time the service's writer spent in rounds, s, its rounds, and their waits for Kafka, s. */
  writerSeconds: number;
  writerRounds: number;
  dependentsSeconds: number;
  /** The writer's time in each part of its rounds, s. */
  stages: Record<RoundStage, number>;
  /**
   * How late the service's event loop ran since the last scrape, beyond prom-client's 10 ms
   * sampling, ms: prom-client starts its histogram afresh at each scrape.
   */
  loopLate: { p50: number; p99: number; max: number };
}

/** What each part of a round is, in the report. */
const STAGE_NAMES: Record<RoundStage, string> = {
  catalog: "catalog's read (the collections in force)",
  load: "documents' loads (cache, then store)",
  apply: 'projections (CPU)',
  dependents: 'wait for Kafka to hold the dependent changes',
  write: 'writes to the store',
};

const NO_STAGES = Object.fromEntries(ROUND_STAGES.map((name) => [name, 0])) as Record<RoundStage, number>;

/** Each part's share of `seconds`, %, from the stage times between two readings. */
function stageShares(
  before: Record<RoundStage, number>,
  after: Record<RoundStage, number>,
  seconds: number,
): Record<RoundStage, number> {
  return Object.fromEntries(
    ROUND_STAGES.map((name) => [name, (100 * (after[name] - before[name])) / seconds]),
  ) as Record<RoundStage, number>;
}

/**
 * From the service's /metrics: the store reads the round needed (its cache's misses), the
 * documents written, the rounds of its one writer (loading, applying and writing) and the time
 * they took, s, the part of that time spent waiting for Kafka to acknowledge the rounds' dependent
 * changes, s, and its event loop's delay since the last scrape.
 */
async function serviceCounts(sharing: ServiceProcess): Promise<ServiceCounts> {
  const text = await (await fetch(`${sharing.url}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);
  const stage = (name: RoundStage): number =>
    value(new RegExp(`^sharing_round_stage_seconds_sum\\{[^}]*stage="${name}"[^}]*\\} ([\\d.e+-]+)`, 'm')) ||
    0;
  // Less the sampling interval, as Node's histogram counts it in every delay.
  const late = (p: string): number => {
    const seconds = value(new RegExp(`^nodejs_eventloop_lag_${p}_seconds(?:\\{[^}]*\\})? ([\\d.e+-]+)`, 'm'));
    return Math.max(0, Math.round((seconds * 1_000 - 10) * 10) / 10);
  };
  const readAhead = value(/^sharing_document_reads_total\{[^}]*source="ahead"[^}]*\} (\d+)/m) || 0;
  return {
    stages: Object.fromEntries(ROUND_STAGES.map((name) => [name, stage(name)])) as Record<RoundStage, number>,
    // The store's reads: in the rounds (miss) and ahead of them, during the round before (ahead),
    // the latter counted once a round used them.
    reads: value(/^sharing_document_reads_total\{[^}]*source="miss"[^}]*\} (\d+)/m) + readAhead,
    readAhead,
    written: value(/^sharing_documents_written_total(?:\{[^}]*\})? (\d+)/m),
    writerSeconds: value(/^sharing_store_write_seconds_sum(?:\{[^}]*\})? ([\d.e+-]+)/m),
    writerRounds: value(/^sharing_store_write_seconds_count(?:\{[^}]*\})? (\d+)/m),
    // Rounds wait for Kafka to acknowledge their dependent changes before they write.
    dependentsSeconds: value(/^sharing_changes_send_seconds_sum\{[^}]*from="round"[^}]*\} ([\d.e+-]+)/m) || 0,
    loopLate: { p50: late('p50'), p99: late('p99'), max: late('max') },
  };
}

/**
 * The sharing service on the harness's topics and database, as it is deployed (RUN), through its
 * changes topic unless `--direct`, with `env` besides.
 */
function startSharing(
  harness: ReturnType<typeof sharingHarness>,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const mode: Record<string, string> = routed ? {} : { SHARING_MODE: 'direct' };
  // /readyz polled often: a round's time counts from the moment it answers.
  return startService(
    'sharing',
    'services/sharing/main.ts',
    { ...harness.serviceEnv(), ...mode, ...env },
    {
      mode: RUN,
      nodeOptions: cpuProfileOptions(),
      pollMs: 25,
    },
  );
}

/**
 * Reads the JSON lines appended to `file` every `everyMs` and hands each to `onEntry`, until
 * stopped; the stop reads what is left first.
 */
function followTrace(file: string, onEntry: (entry: SharingTraceEntry) => void, everyMs = 20) {
  let offset = 0;
  let partial = '';
  // A character cut by a read's end is kept for the next.
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let reading: Promise<void> = Promise.resolve();
  // Opened once the service has written its first line, and kept open until the stop.
  let handle: FileHandle | undefined;
  const readMore = async (): Promise<void> => {
    handle ??= await open(file, 'r').catch(() => undefined);
    if (!handle) return; // not written yet
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') onEntry(JSON.parse(line) as SharingTraceEntry);
    }
  };
  const timer = setInterval(() => {
    reading = reading.then(readMore);
  }, everyMs);
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      reading = reading.then(readMore);
      try {
        await reading;
      } finally {
        await handle?.close();
      }
    },
  };
}

/** Every document of the views, by view in VIEW_NAMES order. */
async function viewDocuments(db: Db): Promise<ViewDoc[][]> {
  const collections = await readCatalog(db);
  return Promise.all(VIEW_NAMES.map((view) => db.collection<ViewDoc>(collections[view]).find().toArray()));
}

/** The store's own time for one document, ms, by command, and its CPU while it ran them. */
interface CommandCosts {
  read: number;
  insert: number;
  rewrite: number;
  cpu: CpuUse;
}

/**
 * The round's commands, timed without the service: with the view store's own code, on a database
 * of its own, each document read while absent (as a round meets it first), written whole, then
 * rewritten with one field changed. The reads go 16 at a time and the writes in commands of
 * STORE_WRITE_CHUNK, as a round sends them; the views one after another.
 */
async function commandCosts(
  uri: string,
  views: ViewDoc[][],
  meter: () => () => CpuUse,
): Promise<CommandCosts> {
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(`bench_commands_${Date.now()}`);
  const store = createViewStore(
    db,
    Object.fromEntries(VIEW_NAMES.map((v) => [v, v])) as Record<ViewName, string>,
  );
  const count = views.reduce((n, docs) => n + docs.length, 0);
  const timed = async (step: (view: ViewName, docs: ViewDoc[]) => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    for (const [i, view] of VIEW_NAMES.entries()) {
      const docs = views[i] ?? [];
      // A round's worth at a time, so that no command carries more than a round would.
      for (let k = 0; k < docs.length; k += 500) await step(view, docs.slice(k, k + 500));
    }
    return (performance.now() - started) / Math.max(1, count);
  };
  try {
    // The collections first, then a pause: the local store's _id index is added within a second
    // of a collection's creation (deploy/local/ferretdb/id-index.go).
    for (const view of VIEW_NAMES) await db.collection<ViewDoc>(view).insertOne({ _id: 'first' });
    await new Promise((r) => setTimeout(r, 1_500));
    const used = meter();
    const read = await timed((view, docs) =>
      store.load(
        view,
        docs.map((d) => d._id),
      ),
    );
    const insert = await timed((view, docs) =>
      store.write(
        view,
        docs.map((after) => ({ before: null, after })),
      ),
    );
    const rewrite = await timed((view, docs) =>
      store.write(
        view,
        docs.map((before) => ({ before, after: { ...before, benchRewrite: 1 } })),
      ),
    );
    return { read, insert, rewrite, cpu: used() };
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

/** The document an event is visible in, for the freshness probe. */
function probeOf({ topic, event }: StreamEvent): { view: ViewName; id: string } | undefined {
  const s = event.subjects;
  if (topic === 'dossier') return s.dossierIds[0] ? { view: 'dossiers', id: s.dossierIds[0] } : undefined;
  if (topic === 'vehicle') return s.plates[0] ? { view: 'vehicles', id: s.plates[0] } : undefined;
  if (s.enterpriseCodes[0]) return { view: 'enterprises', id: s.enterpriseCodes[0] };
  return s.citizenIds[0] ? { view: 'citizens', id: s.citizenIds[0] } : undefined;
}

/**
 * Whether a written document shows an event: it holds a section of the event's source record at
 * its version or a later one (a later event of the record may have replaced the section already),
 * by the versions the service's trace gives for it.
 */
function shows(held: Readonly<Record<string, number>>, record: string, version: number): boolean {
  return Object.hasOwn(held, record) && (held[record] as number) >= version;
}

/** A writer round, as the service's trace tells it. */
type WriterRound = Extract<SharingTraceEntry, { kind: 'round' }>;

/**
 * A probe's latency in parts, ms, by the write command that showed it, the writer's round that
 * sent it and the first stage's send of its change: until its round began (Kafka's hops, the first
 * stage's route, the changes' fetch, and the wait for the writer), of which the route until Kafka
 * held the change, the writer's round running when it did (the changes' consumer fetches again
 * only once its batches, and so that round, are done), and the round's oldest submission waiting
 * for the writer to end the round before; in its round until the command was sent (loads,
 * projections, dependents); and the command itself. The parts "of that" may overlap.
 */
const PROBE_PARTS = [
  'total',
  'untilRound',
  'route',
  'routeTaken',
  'routeDecode',
  'routeQueued',
  'routeRequest',
  'roundBefore',
  'writerBusy',
  'inRound',
  'load',
  'dependents',
  'write',
] as const;
type ProbePart = (typeof PROBE_PARTS)[number];
type ProbeParts = Record<ProbePart, number>;
/** The parts the report names, in its order. */
const NAMED_PARTS = PROBE_PARTS.filter((part) => part !== 'total');

/** What each part is, in the report. */
const PROBE_PART_NAMES: Record<Exclude<ProbePart, 'total'>, string> = {
  untilRound:
    "until its writer round began (Kafka's hops, the route, the changes' fetch, the wait for the writer)",
  route: 'of that, the first stage: until Kafka held its change on the changes topic',
  routeTaken:
    "of the first stage, until it took its event's chunk in hand (Kafka's delivery, the fetch, the partition's chunks before)",
  routeDecode: 'of the first stage, the chunk decoded and routed, until its changes were submitted',
  routeQueued: "of the first stage, its changes waiting for the changes topic's send in flight before",
  routeRequest: "of the first stage, its changes' own request, until Kafka acknowledged it",
  roundBefore: "of that, after the route, the writer's round then running, until it ended",
  writerBusy: "of that, the round's oldest submission waiting for the writer to end the round before",
  inRound: 'in its round until the write command was sent (loads, projections, dependents)',
  load: "of that, its round's loads of documents (cache, then store)",
  dependents: "of that, its round's wait for Kafka to hold the dependent changes",
  write: 'in that write command',
};

/** A first stage's send of changes, as the trace tells it. */
type RouteSend = Pick<
  Extract<SharingTraceEntry, { kind: 'send' }>,
  'chunkAt' | 'submittedAt' | 'requestAt' | 'at'
>;

/** A probe seen written: when Kafka acknowledged its event, and its document's write command. */
interface SeenProbe {
  key: string;
  ackedAt: number;
  sentAt: number;
  at: number;
}

/**
 * `probe`'s parts; `routes`, the first stage's sends of its document's changes, in the order
 * Kafka acknowledged them.
 */
function probeParts(
  probe: SeenProbe,
  rounds: readonly WriterRound[],
  routes: readonly RouteSend[] = [],
): ProbeParts {
  const total = Math.max(0, probe.at - probe.ackedAt);
  const write = Math.max(0, Math.min(total, probe.at - probe.sentAt));
  const round = rounds.find((r) => r.startedAt <= probe.sentAt && probe.sentAt <= r.at);
  // A probe whose round is not in the trace has its time before the write counted until the round.
  const startedAt = round ? Math.max(probe.ackedAt, round.startedAt) : probe.sentAt;
  const untilRound = startedAt - probe.ackedAt;
  // Its change's route: the document's last one before the round began (the bench's own
  // acknowledgement may come after the service's fetch, so the route is counted from the later).
  const send = routes.findLast((r) => r.at <= startedAt);
  const routedAt = send?.at ?? startedAt;
  const route = Math.min(untilRound, Math.max(0, routedAt - probe.ackedAt));
  // The route's parts, each from the later of its start and the bench's acknowledgement.
  const span = (from: number | undefined, to: number | undefined): number =>
    from === undefined || to === undefined ? 0 : Math.max(0, to - Math.max(from, probe.ackedAt));
  const takenAt = send?.chunkAt ?? send?.submittedAt;
  const before = rounds.find((r) => r.startedAt <= routedAt && routedAt < r.at);
  return {
    total,
    untilRound,
    route,
    routeTaken: span(probe.ackedAt, takenAt),
    routeDecode: span(takenAt, send?.submittedAt),
    routeQueued: span(send?.submittedAt, send?.requestAt),
    routeRequest: span(send?.requestAt, send?.at),
    roundBefore: before ? Math.max(0, Math.min(before.at, startedAt) - Math.max(routedAt, probe.ackedAt)) : 0,
    writerBusy: round
      ? Math.max(0, Math.min(startedAt - probe.ackedAt, round.startedAt - round.oldestAt))
      : 0,
    inRound: Math.max(0, probe.sentAt - startedAt),
    load: round?.stages.load ?? 0,
    dependents: round?.stages.dependents ?? 0,
    write,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** What a freshness phase measured (see {@link freshnessPhase}). */
interface Freshness {
  /** Every probe's latency, ms, sorted. */
  latencies: number[];
  /** Probes never seen within 60 s of the last publish. */
  unseen: number;
  /** Every probe seen, in parts (PROBE_PARTS), by its total. */
  parts: ProbeParts[];
  writer: {
    rounds: number;
    seconds: number;
    busy: number;
    kafka: number;
    stages: Record<RoundStage, number>;
  };
  fresh: { reads: number; written: number; documents: number; writerRounds: number; seconds: number };
  loopLate: { p50: number; p99: number; max: number };
  cpu: CpuUse | undefined;
  memory: ReturnType<typeof memoryOf>;
  sharingUsage: ProcessFigure | undefined;
}

/**
 * `stream` published at `rate` events/s, a tenth of a second's worth at a time, to a sharing
 * service of its own on fresh topics; one event in ten is a probe (see the module's comment).
 */
async function freshnessPhase(
  stream: readonly StreamEvent[],
  rate: number,
  meter: (sharing?: ServiceProcess) => () => CpuUse,
): Promise<Freshness> {
  // Epoch milliseconds, as the service's trace gives its times.
  type Probe = { record: string; version: number; ackedAt: number };
  // Probes by view document, and each document's last write, with the source records' versions it
  // holds and when the store acknowledged it: the service's trace tells both, so the bench reads
  // nothing from the store itself.
  const pending = new Map<string, Probe[]>();
  const written = new Map<string, { held: Record<string, number>; at: number; sentAt: number }>();
  const latencies: number[] = [];
  // Each probe's times, split at the end (PROBE_PARTS) by the writer's rounds, as the trace tells
  // them once each round is over: when its oldest submission was made, when it began and ended.
  const seen: SeenProbe[] = [];
  const writerRounds: WriterRound[] = [];
  const routes = new Map<string, RouteSend[]>();
  const settle = (key: string): void => {
    const last = written.get(key);
    const probes = pending.get(key);
    if (!last || !probes) return;
    // A document written before its probe was set counts as seen at once.
    const left = probes.filter((p) => {
      if (!shows(last.held, p.record, p.version)) return true;
      const total = Math.max(0, last.at - p.ackedAt);
      latencies.push(total);
      seen.push({ key, ackedAt: p.ackedAt, sentAt: last.sentAt, at: last.at });
      return false;
    });
    if (left.length > 0) pending.set(key, left);
    else pending.delete(key);
  };
  const harness = sharingHarness({ partitions: 6, batchSize: 500 });
  const scratch = scratchDir('bench-materialize');
  await harness.setUp();
  let sharing: ServiceProcess | undefined;
  let memory: ReturnType<typeof memoryOf>;
  let sharingUsage: ProcessFigure | undefined;
  let unseen = 0;
  let writer = { rounds: 0, seconds: 0, busy: 0, kafka: 0, stages: { ...NO_STAGES } };
  let fresh = { reads: 0, written: 0, documents: 0, writerRounds: 0, seconds: 0 };
  let loopLate = { p50: 0, p99: 0, max: 0 };
  let cpu: CpuUse | undefined;
  try {
    const traceFile = join(scratch.path, 'trace.jsonl');
    sharing = await startSharing(harness, { SHARING_TRACE_FILE: traceFile });
    // The trace names collections; the probes, views.
    const viewOf = new Map(Object.entries(await readCatalog(harness.db())).map(([v, c]) => [c, v]));
    const trace = followTrace(traceFile, (entry) => {
      if (entry.kind === 'round') writerRounds.push(entry);
      if (entry.kind === 'send' && entry.from === 'route')
        for (const key of entry.keys) {
          const sends = routes.get(key);
          if (sends) sends.push(entry);
          else routes.set(key, [entry]);
        }
      if (entry.kind !== 'write') return;
      entry.ids.forEach((id, k) => {
        const key = `${viewOf.get(entry.collection) ?? entry.collection}/${id}`;
        written.set(key, { held: entry.versions[k] ?? {}, at: entry.at, sentAt: entry.sentAt });
        settle(key);
      });
    });
    // Its first scrape starts the service's event-loop histogram afresh, for the phase.
    const writerBefore = await serviceCounts(sharing);
    const phaseStarted = performance.now();
    const freshMeter = meter(sharing);
    const tick = 100;
    const perTick = Math.max(1, Math.round((rate * tick) / 1000));
    const started = performance.now();
    for (let i = 0; i < stream.length; i += perTick) {
      const slice = stream.slice(i, i + perTick);
      await harness.publish(slice);
      const ackedAt = Date.now();
      slice.forEach((item, k) => {
        const probe = (i + k) % 10 === 0 ? probeOf(item) : undefined;
        if (!probe) return;
        const key = `${probe.view}/${probe.id}`;
        const entry = { record: item.event.sourceRecordId, version: item.event.sourceVersion, ackedAt };
        pending.set(key, [...(pending.get(key) ?? []), entry]);
        settle(key);
      });
      const due = started + ((i + perTick) / perTick) * tick;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    const giveUpAt = performance.now() + 60_000;
    while (pending.size > 0 && performance.now() < giveUpAt) await new Promise((r) => setTimeout(r, 50));
    await trace.stop();
    unseen = [...pending.values()].reduce((n, probes) => n + probes.length, 0);
    cpu = freshMeter();
    log(`  ${cpu.summary}`);
    const writerAfter = await serviceCounts(sharing);
    loopLate = writerAfter.loopLate;
    const roundsRun = writerAfter.writerRounds - writerBefore.writerRounds;
    const roundSeconds = writerAfter.writerSeconds - writerBefore.writerSeconds;
    const phaseSeconds = (performance.now() - phaseStarted) / 1000;
    writer = {
      rounds: roundsRun,
      seconds: roundSeconds / Math.max(1, roundsRun),
      busy: roundSeconds / phaseSeconds,
      kafka: (writerAfter.dependentsSeconds - writerBefore.dependentsSeconds) / phaseSeconds,
      stages: stageShares(writerBefore.stages, writerAfter.stages, phaseSeconds),
    };
    fresh = {
      reads: writerAfter.reads - writerBefore.reads,
      written: writerAfter.written - writerBefore.written,
      documents: (await viewDocuments(harness.db())).reduce((n, docs) => n + docs.length, 0),
      writerRounds: roundsRun,
      seconds: phaseSeconds,
    };
    memory = memoryOf(sharing.pid);
    sharingUsage = usageOf('sharing service (services/sharing/main.ts)', sharing.pid, {
      note: RUN === 'compiled' ? 'node dist/…js' : 'node --import tsx: includes the TypeScript loader',
    });
  } finally {
    await sharing?.stop();
    await harness.tearDown();
    scratch.remove();
  }
  latencies.sort((a, b) => a - b);
  const parts = seen
    .map((probe) => probeParts(probe, writerRounds, routes.get(probe.key)))
    .sort((a, b) => a.total - b.total);
  return { latencies, unseen, parts, writer, fresh, loopLate, cpu, memory, sharingUsage };
}

async function main(): Promise<void> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  if (!stack.registry) throw new Error('the benchmarks run against the local registry');
  await runContractTool('register', { url: stack.registry.url, keys: stack.registry.keys() });
  Object.assign(process.env, stack.endpoints, testKafkaEnv(stack), {
    SCHEMA_REGISTRY_KEYS_FILE: stack.registry.keysFile,
  });

  prepareRun(RUN, log);
  killChildrenOnInterrupt(log);

  const storePid = stack.status().find((c) => c.name === 'store')?.pid;
  const ours: Record<number, string> = {
    [process.pid]: 'bench',
    ...(storePid ? { [storePid]: 'store' } : {}),
  };
  const meter = (sharing?: ServiceProcess) =>
    cpuMeter(sharing ? { ...ours, [sharing.pid]: 'sharing' } : ours);

  log(`store ceiling: ${CEILING_DOCS} upserts, three passes`);
  const ceilingCpu = meter();
  const ceiling = await storeCeiling(stack.endpoints.MONGODB_URI);
  const ceilingUse = ceilingCpu();
  log(`  ${ceilingUse.summary}`);

  log(`generating ${EVENTS} events`);
  const events = generateEventStream(EVENTS, 5);
  const eventRates: number[] = [];
  const docRates: number[] = [];
  const readySeconds: number[] = [];
  const rounds: RoundWork[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const harness = sharingHarness({ partitions: 6, batchSize: 500 });
    await harness.setUp();
    let sharing: ServiceProcess | undefined;
    try {
      await harness.publish(events);
      log(`round ${round}/${ROUNDS}: applying ${EVENTS} events from a filled topic`);
      const spawned = performance.now();
      sharing = await startSharing(harness);
      const started = performance.now();
      readySeconds.push((started - spawned) / 1_000);
      const used = meter(sharing);
      // Done once every event, and every change it gave when routed, is committed: the changes
      // count one per document, so routed there are more of them than events.
      for (let last = 0; ; await new Promise((r) => setTimeout(r, 100))) {
        const { committed, total } = await harness.progress();
        if (committed === total && committed >= EVENTS) break;
        const ended = sharing.crashed();
        if (ended) throw new Error(`the sharing service ended during round ${round} (${ended})`);
        if (performance.now() - last > 5_000) {
          last = performance.now();
          log(`  ${committed}/${total} ${routed ? 'events and changes' : 'events'}`);
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = used();
      const counts = await serviceCounts(sharing);
      eventRates.push(EVENTS / seconds);
      docRates.push(counts.written / seconds);
      rounds.push({
        seconds,
        ...counts,
        documents: round === ROUNDS ? await viewDocuments(harness.db()) : [],
        cpu,
      });
      log(
        `  ${Math.round(EVENTS / seconds)} events/s, ${Math.round(counts.written / seconds)} documents/s, ready after ${(readySeconds.at(-1) ?? 0).toFixed(1)} s; ${cpu.summary}`,
      );
    } finally {
      await sharing?.stop();
      await harness.tearDown();
    }
  }
  const eventRate = median(eventRates);
  const docRate = median(docRates);

  const halfRate = eventRate / 2;
  log(`freshness: ${Math.round(halfRate)} events/s for ${FRESHNESS_SECONDS} s, one in ten probed`);
  const { latencies, unseen, parts, writer, fresh, loopLate, memory, sharingUsage, ...phase } =
    await freshnessPhase(generateEventStream(Math.ceil(halfRate * FRESHNESS_SECONDS), 9), halfRate, meter);
  const freshCpu = phase.cpu;
  // The same at a tenth of the rate, on a machine left mostly idle: what the path costs when
  // nothing waits for a core.
  const lowRate = eventRate / 10;
  log(`freshness at a tenth of the rate: ${Math.round(lowRate)} events/s for ${LOW_RATE_SECONDS} s`);
  const low = await freshnessPhase(
    generateEventStream(Math.ceil(lowRate * LOW_RATE_SECONDS), 11),
    lowRate,
    meter,
  );
  // Once more at a tenth of the rate, beside a CPU load that makes the machine as busy as it was at
  // half the rate: the path's latency with the cores shared as they were then, but without the
  // writer's queue of the higher rate. What is left between this and the half rate's is that queue.
  const cores = cpus().length;
  const busyCores = (cpu: CpuUse | undefined): number => ((cpu?.machineBusyPercent ?? 0) * cores) / 100;
  const lowLoad = Math.max(0, busyCores(freshCpu) - busyCores(low.cpu));
  log(`freshness at a tenth of the rate again, beside a CPU load of ${lowLoad.toFixed(2)} cores`);
  const lowLoaded = await besideCpuLoad(lowLoad, () =>
    freshnessPhase(generateEventStream(Math.ceil(lowRate * LOW_RATE_SECONDS), 13), lowRate, meter),
  );
  // The slowest 1% of probes against the rest: where the tail's time went.
  const tailFrom = Math.floor(parts.length * 0.99);
  const split = (of: readonly ProbeParts[]) =>
    Object.fromEntries(
      PROBE_PARTS.map((part) => [part, of.length > 0 ? median(of.map((x) => x[part])) : null]),
    ) as Record<ProbePart, number | null>;
  const bodySplit = split(parts.slice(0, tailFrom));
  const tailSplit = split(parts.slice(tailFrom));
  const tailProbes = parts.length - tailFrom;

  // After the freshness phase, so that its writes do not weigh on it.
  const views = rounds.at(-1)?.documents ?? [];
  const distinct = views.reduce((n, docs) => n + docs.length, 0);
  log(`the last round's ${distinct} documents, read, written and rewritten without the service`);
  const costs = await commandCosts(stack.endpoints.MONGODB_URI, views, meter);
  log(
    `  a document: read ${costs.read.toFixed(2)} ms, written whole ${costs.insert.toFixed(2)} ms, rewritten ${costs.rewrite.toFixed(2)} ms; ${costs.cpu.summary}`,
  );
  // The same commands again, beside a CPU load that takes what the rest of the machine (the
  // service, Kafka, the bench, the neighbours) took during the rounds beyond what it took during
  // the commands alone: what the store allows when it shares the cores as it did in the rounds.
  const otherCores = (cpu: CpuUse): number => busyCores(cpu) - cpu.percentOfCore('store') / 100;
  const addedLoad = Math.max(0, median(rounds.map((r) => otherCores(r.cpu))) - otherCores(costs.cpu));
  log(`the same commands beside a CPU load of ${addedLoad.toFixed(2)} cores, as busy as the rounds`);
  const loadedCosts = await besideCpuLoad(addedLoad, () =>
    commandCosts(stack.endpoints.MONGODB_URI, views, meter),
  );
  log(
    `  a document: read ${loadedCosts.read.toFixed(2)} ms, written whole ${loadedCosts.insert.toFixed(2)} ms, rewritten ${loadedCosts.rewrite.toFixed(2)} ms; ${loadedCosts.cpu.summary}`,
  );
  // The store time that work needs with these costs, ms: its reads, each of its documents written
  // whole once, and every other write a rewrite. The writer's reads of the view catalog, one a
  // second at most (CATALOG_READING_MS), are left out: a few dozen in a phase of thousands.
  type Work = Pick<RoundWork, 'reads' | 'written'>;
  const storeMs = (w: Work, documents: number, at: CommandCosts = costs): number =>
    w.reads * at.read + documents * at.insert + Math.max(0, w.written - documents) * at.rewrite;
  const storeShare = median(rounds.map((r) => storeMs(r, distinct) / (10 * r.seconds)));
  const allowedRate = median(rounds.map((r) => r.written / (storeMs(r, distinct) / 1000)));
  const allowedLoadedRate = median(rounds.map((r) => r.written / (storeMs(r, distinct, loadedCosts) / 1000)));
  const freshStoreShare = storeMs(fresh, fresh.documents) / (10 * fresh.seconds);
  const freshStoreCpu = freshCpu?.percentOfCore('store') ?? null;
  const freshSharingCpu = freshCpu?.percentOfCore('sharing') ?? null;
  const freshBenchCpu = freshCpu?.percentOfCore('bench') ?? null;
  const freshMachine = freshCpu?.machineBusyPercent ?? null;
  // Time the store's threads and the bench process's (the service's event loop among them) were
  // ready to run and waited for a core, over the phase's time: what the machine's load added.
  const freshStoreWaited = freshCpu?.waitedPercent('store') ?? null;
  const freshSharingWaited = freshCpu?.waitedPercent('sharing') ?? null;
  const commandsStoreWaited = costs.cpu.waitedPercent('store');
  const storeCpuApply = median(rounds.map((r) => r.cpu.percentOfCore('store')));
  const sharingCpuApply = median(rounds.map((r) => r.cpu.percentOfCore('sharing')));
  const machineApply = median(rounds.map((r) => r.cpu.machineBusyPercent));
  const storeCpuCeiling = ceilingUse.percentOfCore('store');
  const storeCpuCommands = costs.cpu.percentOfCore('store');
  const writerShare = median(rounds.map((r) => (100 * r.writerSeconds) / r.seconds));
  // Each part's share of the rounds' time, median over the rounds.
  const roundStages = Object.fromEntries(
    ROUND_STAGES.map((name) => [
      name,
      median(rounds.map((r) => stageShares(NO_STAGES, r.stages, r.seconds)[name])),
    ]),
  ) as Record<RoundStage, number>;
  const describeStages = (shares: Record<RoundStage, number>): string =>
    ROUND_STAGES.map((name) => `${name} ${Math.round(shares[name])}%`).join(', ');
  const readsPerDocument = median(rounds.map((r) => r.reads / Math.max(1, r.written)));
  const readAheadShare = median(rounds.map((r) => (100 * r.readAhead) / Math.max(1, r.reads)));

  const lines = [
    '',
    `materialize benchmark (${quick ? 'quick' : 'full'}, ${routed ? 'through the changes topic' : 'direct'}), ${cpus().length} cores, store ${stack.endpoints.MONGODB_URI}`,
    `| figure | measured | target |`,
    `| --- | --- | --- |`,
    `| store ceiling, unordered bulk upserts by _id | ${Math.round(ceiling)} documents/s | |`,
    `| materialize from a filled topic | ${Math.round(eventRate)} events/s, ${Math.round(docRate)} documents/s (median of ${ROUNDS}) | |`,
    `| documents/s against the ceiling | ${Math.round((100 * docRate) / ceiling)}% | ≥ 70% |`,
    `| events/s against the ceiling | ${Math.round((100 * eventRate) / ceiling)}% | |`,
    `| store reads per document written (in the rounds and ahead of them); the share ahead | ${readsPerDocument.toFixed(2)}; ${Math.round(readAheadShare)}% | |`,
    `| the round's commands alone, a document | read ${costs.read.toFixed(2)} ms, written whole ${costs.insert.toFixed(2)} ms, rewritten ${costs.rewrite.toFixed(2)} ms | |`,
    `| documents/s the store allows for the rounds' own commands | ${Math.round(allowedRate)} | |`,
    `| rounds' time the store alone accounts for | ${Math.round(storeShare)}% | |`,
    `| documents/s the store allows for those commands beside a CPU load as busy as the rounds' (${addedLoad.toFixed(2)} cores more); the service against that | ${Math.round(allowedLoadedRate)}; ${Math.round((100 * docRate) / allowedLoadedRate)}% | |`,
    `| rounds' time the service's writer was in a round (load, apply, write) | ${Math.round(writerShare)}% | |`,
    `| rounds' time by part of the writer's rounds | ${describeStages(roundStages)} | |`,
    `| store CPU: ceiling, rounds, commands alone | ${Math.round(storeCpuCeiling)}%, ${Math.round(storeCpuApply)}%, ${Math.round(storeCpuCommands)}% of a core | |`,
    `| rounds: sharing service CPU, machine busy | ${Math.round(sharingCpuApply)}% of a core, ${Math.round(machineApply)}% of all cores | |`,
    `| rounds: the service's start, until ready | ${median(readySeconds).toFixed(1)} s (median of ${ROUNDS}, not counted in the rounds' time) | |`,
    `| freshness p50 at ${Math.round(halfRate)} events/s | ${Math.round(percentile(latencies, 50))} ms (${latencies.length} probes) | |`,
    `| freshness p99 | ${Math.round(percentile(latencies, 99))} ms${unseen > 0 ? ` (${unseen} probes never seen in 60 s)` : ''} | ≤ 250 ms |`,
    `| freshness p50 / p99 at a tenth of the rate, ${Math.round(lowRate)} events/s | ${Math.round(percentile(low.latencies, 50))} / ${Math.round(percentile(low.latencies, 99))} ms (${low.latencies.length} probes${low.unseen > 0 ? `, ${low.unseen} never seen` : ''}) | |`,
    `| at a tenth of the rate: machine busy; store / sharing service threads waiting for a core | ${low.cpu?.machineBusyPercent ?? '?'}%; ${Math.round(low.cpu?.waitedPercent('store') ?? NaN)}% / ${Math.round(low.cpu?.waitedPercent('sharing') ?? NaN)}% | |`,
    `| freshness p50 / p99 at a tenth of the rate beside a CPU load of ${lowLoad.toFixed(2)} cores; machine busy | ${Math.round(percentile(lowLoaded.latencies, 50))} / ${Math.round(percentile(lowLoaded.latencies, 99))} ms (${lowLoaded.latencies.length} probes${lowLoaded.unseen > 0 ? `, ${lowLoaded.unseen} never seen` : ''}); ${lowLoaded.cpu?.machineBusyPercent ?? '?'}% | |`,
    ...NAMED_PARTS.map(
      (part) =>
        `| freshness, median of the slowest 1% (${tailProbes} probes) / of the rest: ${PROBE_PART_NAMES[part]} | ${fmtMs(tailSplit[part])} / ${fmtMs(bodySplit[part])} | |`,
    ),
    `| freshness phase: writer rounds, mean round, writer busy | ${writer.rounds}, ${Math.round(1000 * writer.seconds)} ms, ${Math.round(100 * writer.busy)}% | |`,
    `| freshness phase: its time the store alone accounts for, with its own commands | ${Math.round(freshStoreShare)}% | |`,
    `| freshness phase: its time rounds waited for Kafka to acknowledge their dependents | ${Math.round(100 * writer.kafka)}% | |`,
    `| freshness phase: its time by part of the writer's rounds | ${describeStages(writer.stages)} | |`,
    `| freshness phase: store, sharing service, bench process (producer) CPU; machine busy | ${Math.round(freshStoreCpu ?? NaN)}%, ${Math.round(freshSharingCpu ?? NaN)}%, ${Math.round(freshBenchCpu ?? NaN)}% of a core; ${freshMachine}% of all cores | |`,
    `| threads waiting for a core over the time: store in the commands alone; store / sharing service in the freshness phase | ${Math.round(commandsStoreWaited)}%; ${Math.round(freshStoreWaited ?? NaN)}% / ${Math.round(freshSharingWaited ?? NaN)}% | |`,
    `| freshness phase: the service's event loop late, beyond 10 ms sampling, p50 / p99 / max | ${loopLate.p50} / ${loopLate.p99} / ${loopLate.max} ms | |`,
    `| sharing service RSS at the end, peak (${RUN}) | ${memory?.now ?? '?'} MiB, ${memory?.peak ?? '?'} MiB | ≤ ${TARGET_RSS_MIB} MiB |`,
    '',
  ];
  process.stdout.write(lines.join('\n'));

  // Counting a probe never seen as slower than any seen one, p99 fails once more than 1% are.
  const probes = latencies.length + unseen;
  const p99 = latencies.length > 0 ? percentile(latencies, 99) : null;
  writeBenchResult({
    bench: 'materialize',
    mode: quick ? 'quick' : 'full',
    parameters: {
      rounds: ROUNDS,
      events: EVENTS,
      ceilingDocuments: CEILING_DOCS,
      storeWriteChunk: STORE_WRITE_CHUNK,
      freshnessSeconds: FRESHNESS_SECONDS,
      through: routed ? 'changes topic' : 'direct',
    },
    figures: [
      figure('store ceiling, unordered bulk upserts by _id', ceiling, 'documents/s'),
      figure(`materialize from a filled topic, events applied (median of ${ROUNDS})`, eventRate, 'events/s'),
      figure(
        `materialize from a filled topic, view documents written (median of ${ROUNDS})`,
        docRate,
        'documents/s',
      ),
      figure(
        'documents/s against the store ceiling',
        (100 * docRate) / ceiling,
        '%',
        atLeast(70, '≥ 70% of the ceiling'),
      ),
      figure('events/s against the store ceiling', (100 * eventRate) / ceiling, '%'),
      figure(
        `store reads per view document written, in the rounds and ahead of them (median of ${ROUNDS})`,
        readsPerDocument,
        'reads',
      ),
      figure(
        `store reads made ahead of their round, during the round before, of all its reads (median of ${ROUNDS})`,
        readAheadShare,
        '%',
      ),
      figure(
        `the rounds' commands without the service: a point read of an absent document`,
        costs.read,
        'ms',
      ),
      figure(`the rounds' commands without the service: a document written whole`, costs.insert, 'ms'),
      figure(
        `the rounds' commands without the service: a document rewritten, one field changed`,
        costs.rewrite,
        'ms',
      ),
      figure(
        "view documents/s the store allows for the rounds' own commands, alone (same run)",
        allowedRate,
        'documents/s',
      ),
      figure(
        "view documents/s the store allows for the rounds' own commands beside a CPU load as busy as the rounds' (same run)",
        allowedLoadedRate,
        'documents/s',
      ),
      figure(
        "view documents/s the service reached, against what the store allows beside a CPU load as busy as the rounds' (a ratio from the same run)",
        (100 * docRate) / allowedLoadedRate,
        '%',
      ),
      figure(
        "rounds' time the store accounts for, alone, with their own commands (a ratio from the same run)",
        storeShare,
        '%',
        undefined,
        'the rest is time the store was not given work: the service, Kafka and the bench',
      ),
      figure(
        `rounds' time the service's one writer was in a round: loading, applying, writing (median of ${ROUNDS})`,
        writerShare,
        '%',
        undefined,
        'the rest, the writer waited for changes to arrive',
      ),
      ...ROUND_STAGES.map((name) =>
        figure(
          `rounds' time the writer was in the ${STAGE_NAMES[name]} (median of ${ROUNDS})`,
          roundStages[name],
          '%',
        ),
      ),
      figure('store CPU during the ceiling', storeCpuCeiling, '% of a core'),
      figure(`store CPU during the rounds (median of ${ROUNDS})`, storeCpuApply, '% of a core'),
      figure("store CPU during the rounds' commands alone", storeCpuCommands, '% of a core'),
      figure(
        "time the store's threads waited for a core during the rounds' commands alone, over that time",
        commandsStoreWaited,
        '%',
        undefined,
        'absolute, from /proc/<pid>/task/*/schedstat, summed over threads',
      ),
      figure(`sharing service CPU during the rounds (median of ${ROUNDS})`, sharingCpuApply, '% of a core'),
      figure(
        `the sharing service's start, from its spawn until ready (median of ${ROUNDS})`,
        median(readySeconds),
        's',
        undefined,
        "not counted in the rounds' time: they count from the moment it said it was ready",
      ),
      figure(`machine busy during the rounds (median of ${ROUNDS})`, machineApply, '% of all cores'),
      figure(`freshness p50 at ${Math.round(halfRate)} events/s`, percentile(latencies, 50), 'ms'),
      {
        ...figure(
          `freshness p99 at ${Math.round(halfRate)} events/s`,
          p99,
          'ms',
          atMost(250, '≤ 250 ms'),
          unseen > 0 ? `${unseen} of ${probes} probes never seen in 60 s` : undefined,
        ),
        ...(probes > 0 && unseen > probes / 100 ? { met: false } : {}),
      },
      figure('freshness probes never seen in 60 s', unseen, 'probes'),
      ...([50, 99] as const).map((p) =>
        figure(
          `freshness p${p} at a tenth of the rate, ${Math.round(lowRate)} events/s`,
          low.latencies.length > 0 ? percentile(low.latencies, p) : null,
          'ms',
          undefined,
          `${low.latencies.length} probes${low.unseen > 0 ? `, ${low.unseen} never seen in 60 s` : ''}; the same path with the machine mostly idle`,
        ),
      ),
      ...([50, 99] as const).map((p) =>
        figure(
          `freshness p${p} at a tenth of the rate, beside a CPU load that made the machine as busy as at half the rate`,
          lowLoaded.latencies.length > 0 ? percentile(lowLoaded.latencies, p) : null,
          'ms',
          undefined,
          `${lowLoaded.latencies.length} probes${lowLoaded.unseen > 0 ? `, ${lowLoaded.unseen} never seen in 60 s` : ''}; ${lowLoad.toFixed(2)} cores of load; the machine ${lowLoaded.cpu?.machineBusyPercent ?? '?'}% busy`,
        ),
      ),
      figure('at a tenth of the rate: machine busy', low.cpu?.machineBusyPercent ?? null, '% of all cores'),
      figure(
        "at a tenth of the rate: time the store's threads waited for a core, over the phase",
        low.cpu?.waitedPercent('store') ?? null,
        '%',
      ),
      figure(
        "at a tenth of the rate: time the sharing service's threads waited for a core, over the phase",
        low.cpu?.waitedPercent('sharing') ?? null,
        '%',
      ),
      ...(
        [
          ['the slowest 1% of probes', tailSplit, tailProbes],
          ['the other probes', bodySplit, parts.length - tailProbes],
        ] as const
      ).flatMap(([which, at, count]) =>
        NAMED_PARTS.map((part) =>
          figure(
            `freshness, ${which}: median time ${PROBE_PART_NAMES[part]}`,
            at[part],
            'ms',
            undefined,
            `${count} probes`,
          ),
        ),
      ),
      figure(
        "freshness phase: the writer's mean round (load, apply, write)",
        1000 * writer.seconds,
        'ms',
        undefined,
        `${writer.rounds} rounds`,
      ),
      figure('freshness phase: time the writer was in a round', 100 * writer.busy, '%'),
      ...ROUND_STAGES.map((name) =>
        figure(
          `freshness phase: time the writer was in the ${STAGE_NAMES[name]} (a ratio from the same run)`,
          writer.stages[name],
          '%',
        ),
      ),
      figure(
        'freshness phase: time rounds waited for Kafka to acknowledge their dependent changes (a ratio from the same run)',
        100 * writer.kafka,
        '%',
      ),
      figure(
        "freshness phase: its time the store accounts for, alone, with the phase's own commands (a ratio from the same run)",
        freshStoreShare,
        '%',
        undefined,
        `${fresh.reads} reads, ${fresh.written} writes of ${fresh.documents} documents, ${fresh.writerRounds} rounds; beside the writer's waits for Kafka, the rest of its time is the service's CPU`,
      ),
      figure('freshness phase: store CPU', freshStoreCpu, '% of a core'),
      figure('freshness phase: sharing service CPU', freshSharingCpu, '% of a core'),
      figure(
        'freshness phase: bench process CPU (the producer and the probes)',
        freshBenchCpu,
        '% of a core',
      ),
      figure('freshness phase: machine busy', freshMachine, '% of all cores'),
      figure(
        "freshness phase: time the store's threads waited for a core, over the phase",
        freshStoreWaited,
        '%',
        undefined,
        'absolute, from /proc/<pid>/task/*/schedstat, summed over threads',
      ),
      figure(
        "freshness phase: time the sharing service's threads waited for a core, over the phase",
        freshSharingWaited,
        '%',
        undefined,
        'absolute, from /proc/<pid>/task/*/schedstat, summed over threads',
      ),
      ...(['p50', 'p99', 'max'] as const).map((p) =>
        figure(
          `freshness phase: the sharing service's event-loop delay ${p}, beyond prom-client's 10 ms sampling interval`,
          loopLate[p],
          'ms',
          undefined,
          'absolute, same run',
        ),
      ),
      figure(
        `sharing service RSS at the end of the freshness phase (${RUN})`,
        memory?.now ?? null,
        'MiB',
        atMost(TARGET_RSS_MIB, `≤ ${TARGET_RSS_MIB} MiB`),
        `peak ${memory?.peak ?? '?'} MiB`,
      ),
    ],
    processes: [ownUsage('bench:materialize (producer, probes)'), ...(sharingUsage ? [sharingUsage] : [])],
    notes: [`${latencies.length} freshness probes seen`],
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:materialize failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

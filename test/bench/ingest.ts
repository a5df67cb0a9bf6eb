/**
 * Ingest benchmark: records per second through a connector into Kafka (100 records per POST,
 * acks=all), then the acknowledgement latency at half that rate, on an open-loop schedule. It
 * prints figures and asserts nothing. Run with `npm run bench:ingest` (`-- --quick` for a short
 * run); it brings the local stack up if needed and runs the tax connector as a process of its own,
 * compiled (built first if the sources changed). With LIENTHONG_BENCH_JSON set, it also writes its
 * figures there as JSON, for `npm run bench` (report-format.ts).
 *
 * Over the closed-loop rounds, the bench reads the CPU that the connector, Kafka, the bench process
 * and the whole machine used, from /proc, and the connector's CPU per 1,000 records accepted: what
 * bounds the rate.
 *
 * Three readings say what stands in the way of that latency. Over the open-loop phase alone, the
 * bench reads the connector's event-loop delay from its `GET /metrics`, scraped right before and
 * right after (prom-client resets its histogram at each scrape), and the CPU that the connector,
 * Kafka, the bench process and the whole machine used, from /proc. Then it measures Kafka's own
 * floor in a phase of its own: the same records, Avro-encoded ahead, are published from the bench
 * process through the connector's publisher and producers, one `publish` call of 100 for each POST
 * of the schedule, at the same rate for the same seconds. They go to a topic of the run's own, with
 * the tax topic's partitions and policy, deleted after (kafka-floor.ts). The same CPU readings
 * are taken over that phase.
 *
 * `--compare <variant>` (repeatable) also runs the connector as another variant, and gives each the
 * same paced load in turns, measured in this one run: the CPU it and Kafka spend per 1,000 records,
 * and its ack latency. A variant is `source` (from the sources under tsx), `build=<dir>` (another
 * build's `dist/`, such as an earlier commit's) or `producers=<n>` (CONNECTOR_PRODUCERS).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateRecords } from '../../connectors/demo/generator';
import { DEFAULT_PRODUCERS } from '../../connectors/runtime/config';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import {
  type BenchConnector,
  type BenchConnectorOptions,
  type IngestLoad,
  EVENT_LOOP_SAMPLE_MS,
  eventLoopDelaySince,
  loadConnector,
  median,
  spawnBenchConnector,
  startBenchConnector,
} from './connector-process';
import { encodeTaxBatches, kafkaFloor } from './kafka-floor';
import { type LoadTarget, openLoop, type OpenLoopResult, percentileOfScheduled } from './lookup-load';
import { type CpuUse, cpuMeter, ownUsage, processTree, usageOf } from './process-usage';
import { atLeast, atMost, figure, writeBenchResult } from './report-format';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    compare: { type: 'string', multiple: true, default: [] },
  },
});
const quick = options.quick;
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 5 : 10;
const RECORDS_PER_POST = 100;
const CONNECTIONS = 16;
/** Turns of the compiled-against-sources comparison, each connector once a turn. */
const TURNS = 3;
const TURN_SECONDS = 5;

const log = (line: string): void => {
  process.stderr.write(`[bench:ingest] ${line}\n`);
};

/** A percentile over every scheduled POST, ms; null when it falls among the unanswered ones. */
function ofScheduled(
  result: Pick<OpenLoopResult, 'scheduled' | 'answered' | 'latency'>,
  p: number,
): number | null {
  const micros = percentileOfScheduled(result, p);
  return micros === undefined ? null : Math.round(micros / 100) / 10;
}

/** The local Kafka's processes, to count their CPU per turn. */
function kafkaProcesses(stack: LocalStack): number[] {
  return stack
    .status()
    .filter((c) => c.name.startsWith('kafka') && c.pid !== undefined)
    .flatMap((c) => processTree(c.pid as number));
}

function cpuOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + usageOf('', pid).cpuSeconds, 0);
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
  const connector = await startBenchConnector(log);
  const stack = new LocalStack(stackConfig(), () => undefined);
  const url = connector.url;
  const extra: BenchConnector[] = [];
  try {
    const totalBodies = Math.ceil((ROUNDS * SECONDS * 40_000) / RECORDS_PER_POST);
    log(`generating ${totalBodies * RECORDS_PER_POST} distinct tax records`);
    const records = generateRecords('tax', totalBodies * RECORDS_PER_POST, Date.now() % 1_000_000);
    const batches: unknown[][] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_POST)
      batches.push(records.slice(i, i + RECORDS_PER_POST));
    const bodies = batches.map((batch) => JSON.stringify(batch));
    let next = 0;
    const body = (): string => bodies[next++ % bodies.length] as string;
    const load = (options: Omit<IngestLoad, 'url' | 'headers' | 'body' | 'connections'>) =>
      loadConnector({ url, headers: connector.headers, body, connections: CONNECTIONS, ...options });
    // Every POST must be answered 200 (every record accepted), its answer saying none was refused.
    const targetsOf = (c: BenchConnector): LoadTarget[] =>
      bodies.map((text) => ({
        path: '/v1/records',
        headers: { ...c.headers, 'content-type': 'application/json' },
        body: text,
        check: (_headers, answer) => answer.includes('"rejected":0'),
      }));

    // Warm-up: JIT, connections, the producer's first metadata.
    await load({ duration: 2 });

    const kafkaPids = kafkaProcesses(stack);
    const roles: Record<number, string> = { [process.pid]: 'bench:ingest' };
    for (const pid of processTree(connector.usage().pid)) roles[pid] = 'tax connector';
    for (const pid of kafkaPids) roles[pid] = 'kafka';
    const cpuOver = (use: CpuUse, role: string): number => Math.round(use.percentOfCore(role));

    const rates: number[] = [];
    // The rounds' own CPU: what bounds the rate they measure.
    const roundsCpu = cpuMeter(roles);
    let roundsRecords = 0;
    for (let round = 1; round <= ROUNDS; round += 1) {
      log(`round ${round}/${ROUNDS}: ${CONNECTIONS} connections for ${SECONDS} s, as fast as acknowledged`);
      const result = await load({ duration: SECONDS });
      const rate = (result.ok * RECORDS_PER_POST) / SECONDS;
      log(`  ${Math.round(rate)} records/s (${result.ok} POSTs answered 200, ${result.errors} not)`);
      rates.push(rate);
      roundsRecords += result.ok * RECORDS_PER_POST;
    }
    const roundsUse = roundsCpu();
    log(`  over the rounds: ${roundsUse.summary}`);
    // Connector CPU per 1,000 records accepted, and the rate one core would allow at that cost.
    const roundsCpuPer1000 = (roundsUse.seconds('tax connector') * 1e6) / Math.max(1, roundsRecords);
    const oneCoreAllows = roundsCpuPer1000 > 0 ? 1e6 / roundsCpuPer1000 : null;
    const maxRate = median(rates);
    const halfRate = maxRate / 2;
    const postRate = Math.max(1, Math.round(halfRate / RECORDS_PER_POST));
    log(
      `latency at half the rate: ${postRate} POSTs/s (${Math.round(halfRate)} records/s), open loop, ${SECONDS} s`,
    );
    // The scrape before resets the connector's event-loop histogram; the one after reads the phase.
    await eventLoopDelaySince(url);
    const phaseCpu = cpuMeter(roles);
    // Open loop: each POST leaves at its scheduled time whether or not earlier ones were answered,
    // and its latency counts from that time; one never answered is a miss (DESIGN: honest figures).
    const firstBody = next % bodies.length;
    const paced = await openLoop({
      origin: url,
      connections: CONNECTIONS * 4,
      rate: postRate,
      seconds: SECONDS,
      targets: targetsOf(connector).slice(firstBody),
      maxOutstanding: 1_000,
      drainMs: 10_000,
    });
    const pacedCpu = phaseCpu();
    const loopDelay = await eventLoopDelaySince(url);
    log(`  connector event loop ${JSON.stringify(loopDelay)} ms late; ${pacedCpu.summary}`);
    const p50 = ofScheduled(paced, 50);
    const p99 = ofScheduled(paced, 99);
    const notOk = paced.scheduled - (paced.statuses.get(200) ?? 0) + paced.wrong;
    const rss = connector.rssMiB();
    const connectorUsage = connector.usage();

    // Kafka alone: the batches that phase sent, in its order, through the connector's publisher.
    log(`Kafka alone: the same batches from this process, ${postRate} publish calls/s, ${SECONDS} s`);
    const encoded = await encodeTaxBatches(
      { url: connector.spawnedWith.registryUrl, key: connector.spawnedWith.registryKey },
      batches.slice(firstBody, firstBody + paced.scheduled),
    );
    const floorCpu = cpuMeter(roles);
    const floor = await kafkaFloor({
      connection: stack.kafkaConnection(OPERATOR_PRINCIPAL),
      batches: encoded,
      rate: postRate,
      seconds: SECONDS,
    });
    const floorUse = floorCpu();
    const floorP50 = ofScheduled(floor, 50);
    const floorP99 = ofScheduled(floor, 99);
    log(`  p50 ${floorP50} ms, p99 ${floorP99} ms, ${floor.failed} calls failed; ${floorUse.summary}`);

    // The variants: the same paced load on each in turns, CPU per 1,000 records and latency.
    const variants: { name: string; connector: BenchConnector }[] = [{ name: connector.run, connector }];
    for (const variant of options.compare ?? []) {
      const [kind, value = ''] = variant.split('=');
      const more: Partial<BenchConnectorOptions> =
        kind === 'source'
          ? { run: 'source' }
          : kind === 'build'
            ? { build: value }
            : kind === 'producers'
              ? { env: { CONNECTOR_PRODUCERS: value } }
              : {};
      if (Object.keys(more).length === 0) throw new Error(`unknown variant ${variant}`);
      const c = await spawnBenchConnector({ ...connector.spawnedWith, ...more });
      extra.push(c);
      // Its warm-up, as the first connector had: JIT, connections, metadata.
      await loadConnector({ url: c.url, headers: c.headers, body, connections: CONNECTIONS, duration: 2 });
      variants.push({ name: variant, connector: c });
    }
    const turns = new Map<string, { cpu: number[]; kafka: number[]; p99: (number | null)[] }>();
    if (variants.length > 1) {
      log(`${variants.length} variants in ${TURNS} turns of ${TURN_SECONDS} s at ${postRate} POSTs/s each`);
      for (let turn = 1; turn <= TURNS; turn += 1) {
        for (const { name, connector: c } of variants) {
          const before = c.usage().cpuSeconds;
          const kafkaBefore = cpuOf(kafkaPids);
          const r = await openLoop({
            origin: c.url,
            connections: CONNECTIONS * 4,
            rate: postRate,
            seconds: TURN_SECONDS,
            targets: targetsOf(c).slice((turn * 97) % bodies.length),
            maxOutstanding: 1_000,
            drainMs: 10_000,
          });
          const done = Math.max(1, (r.statuses.get(200) ?? 0) * RECORDS_PER_POST);
          const cpu = ((c.usage().cpuSeconds - before) * 1e6) / done;
          const kafka = ((cpuOf(kafkaPids) - kafkaBefore) * 1e6) / done;
          const entry = turns.get(name) ?? { cpu: [], kafka: [], p99: [] };
          entry.cpu.push(cpu);
          entry.kafka.push(kafka);
          entry.p99.push(ofScheduled(r, 99));
          turns.set(name, entry);
          log(
            `  turn ${turn}, ${name}: connector ${cpu.toFixed(1)} ms, Kafka ${kafka.toFixed(1)} ms CPU per 1,000 records; p99 ${ofScheduled(r, 99) ?? 'unanswered'} ms; load ${loadavg()[0]?.toFixed(2)}`,
          );
        }
      }
    }
    const compared = [...turns].map(([name, t]) => ({
      name,
      cpu: median(t.cpu),
      kafka: median(t.kafka),
      p99: t.p99.includes(null) ? null : median(t.p99 as number[]),
    }));

    const fmt = (v: number | null) => (v === null ? 'among the unanswered' : `${v} ms`);
    const overFloor = p99 === null || floorP99 === null ? null : Math.round((p99 / floorP99) * 10) / 10;
    const cores = cpus().length;
    const cpuText = (use: CpuUse) =>
      `connector ${cpuOver(use, 'tax connector')} %, Kafka ${cpuOver(use, 'kafka')} %, bench process ${cpuOver(use, 'bench:ingest')} % of a core; machine ${use.machineBusyPercent} % busy (of ${cores} cores)`;
    const floorName = 'Kafka alone, kafkajs from the bench process, same batches and schedule';
    const floorNote = `Kafka alone: the open-loop phase's records, mapped and Avro-encoded ahead (the connector's bytes, with a traceparent header of the same length), through the connector's publisher (${DEFAULT_PRODUCERS} idempotent producers, acks=all, no compression, the same linger), ${RECORDS_PER_POST} records a publish call, to a topic of the run's own with the tax topic's ${DOMAIN_TOPIC_PARTITIONS} partitions and policy, deleted after; ${floor.scheduled} calls scheduled, ${floor.answered} acknowledged`;
    const loopNote = `event-loop delay: prom-client's histogram of Node's monitorEventLoopDelay, read by a scrape right after the phase and reset by one right before, less its ${EVENT_LOOP_SAMPLE_MS} ms sampling interval; time the process waited for a core counts in it`;
    const lines = [
      '',
      `ingest benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} cores, ${RECORDS_PER_POST} records per POST, acks=all, connector ${connector.run}; load average before ${loadBefore.join(', ')}`,
      `| figure | measured | target |`,
      `| --- | --- | --- |`,
      `| ingest throughput (median of ${ROUNDS}) | ${Math.round(maxRate)} records/s | ≥ 20,000 records/s |`,
      `| ack latency p50 at ${Math.round(halfRate)} records/s, open loop | ${fmt(p50)} | |`,
      `| ack latency p99 at ${Math.round(halfRate)} records/s, open loop | ${fmt(p99)} | ≤ 20 ms |`,
      `| ${floorName}: ack latency p50 / p99 (absolute) | ${fmt(floorP50)} / ${fmt(floorP99)}; ${floor.failed} calls not acknowledged | |`,
      `| connector's ack p99 over Kafka alone's (ratio, same run) | ${overFloor ?? 'not measured'} × | |`,
      `| connector's event-loop delay over the open-loop phase, beyond the ${EVENT_LOOP_SAMPLE_MS} ms sampling interval: p50 / p99 / max (absolute) | ${loopDelay.p50} / ${loopDelay.p99} / ${loopDelay.max} ms | |`,
      `| CPU over the closed-loop rounds (absolute) | ${cpuText(roundsUse)} | |`,
      `| connector CPU per 1,000 records over the rounds; the rate one core allows at that cost | ${roundsCpuPer1000.toFixed(1)} ms; ${oneCoreAllows === null ? 'not measured' : Math.round(oneCoreAllows)} records/s | |`,
      `| connector's main (JavaScript) thread over the rounds; time it waited for a core | ${Math.round(roundsUse.mainThreadPercent('tax connector'))}% of a core; ${Math.round(roundsUse.waitedPercent('tax connector'))}% (all its threads) | |`,
      `| CPU over the connector's open-loop phase (absolute) | ${cpuText(pacedCpu)} | |`,
      `| CPU over Kafka alone (absolute) | ${cpuText(floorUse)} | |`,
      `| connector RSS after the run | ${rss} MiB | ≤ 256 MiB |`,
      ...compared.map(
        (v) =>
          `| ${v.name}, turns at ${Math.round(halfRate)} records/s (median of ${TURNS}) | connector ${v.cpu.toFixed(1)} ms and Kafka ${v.kafka.toFixed(1)} ms CPU per 1,000 records; p99 ${fmt(v.p99)} | |`,
      ),
      `rounds: ${rates.map((r) => Math.round(r)).join(', ')} records/s; open loop: ${paced.scheduled} POSTs scheduled, ${paced.answered} answered, ${notOk} not answered 200 with every record accepted; load average after ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
      floorNote,
      loopNote,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    const halfRateText = `${Math.round(halfRate)} records/s, half the measured rate, open loop`;
    writeBenchResult({
      bench: 'ingest',
      mode: quick ? 'quick' : 'full',
      parameters: {
        rounds: ROUNDS,
        seconds: SECONDS,
        recordsPerPost: RECORDS_PER_POST,
        connections: CONNECTIONS,
        run: connector.run,
      },
      figures: [
        figure(
          `ingest throughput, acks=all (median of ${ROUNDS})`,
          maxRate,
          'records/s',
          atLeast(20_000, '≥ 20,000 records/s'),
        ),
        figure(`ack latency p50 at ${halfRateText}`, p50, 'ms'),
        figure(`ack latency p99 at ${halfRateText}`, p99, 'ms', atMost(20, '≤ 20 ms at half the rate')),
        figure(`${floorName}: ack latency p50`, floorP50, 'ms', undefined, 'absolute, same run'),
        figure(`${floorName}: ack latency p99`, floorP99, 'ms', undefined, 'absolute, same run'),
        figure(`${floorName}: publish calls not acknowledged`, floor.failed, 'calls', undefined, 'absolute'),
        figure(
          "connector's ack latency p99 over Kafka alone's",
          overFloor,
          '×',
          undefined,
          'ratio, same run',
        ),
        ...(['p50', 'p99', 'max'] as const).map((p) =>
          figure(
            `connector's event-loop delay ${p} over the open-loop phase, beyond the ${EVENT_LOOP_SAMPLE_MS} ms sampling interval`,
            loopDelay[p],
            'ms',
            undefined,
            'absolute, from its /metrics',
          ),
        ),
        figure(
          'connector CPU per 1,000 records over the closed-loop rounds',
          roundsCpuPer1000,
          'ms',
          undefined,
          'absolute, same run',
        ),
        figure(
          "records/s one core allows at the connector's CPU per record in the rounds",
          oneCoreAllows,
          'records/s',
          undefined,
          'absolute, same run',
        ),
        figure(
          "connector's main thread, which runs its JavaScript, over the closed-loop rounds",
          roundsUse.mainThreadPercent('tax connector'),
          '% of a core',
          undefined,
          'absolute, from /proc/<pid>/task/<pid>/schedstat; near 100 % that one thread is the bound',
        ),
        figure(
          "time the connector's threads waited for a core over the closed-loop rounds",
          roundsUse.waitedPercent('tax connector'),
          '%',
          undefined,
          'absolute, summed over its threads',
        ),
        ...(
          [
            ['the closed-loop rounds', roundsUse],
            ['the open-loop phase', pacedCpu],
            ['Kafka alone', floorUse],
          ] as const
        ).flatMap(([phase, use]) => [
          ...(['tax connector', 'kafka', 'bench:ingest'] as const).map((role) =>
            figure(`CPU of ${role} over ${phase}`, cpuOver(use, role), '% of a core', undefined, 'absolute'),
          ),
          figure(
            `machine busy over ${phase}`,
            use.machineBusyPercent,
            `% of ${cores} cores`,
            undefined,
            'absolute',
          ),
        ]),
        figure('connector RSS after the run (steady state)', rss, 'MiB', atMost(256, '≤ 256 MiB')),
        figure('POSTs scheduled at half the rate and not answered 200, all accepted', notOk, 'POSTs'),
        ...compared.flatMap((v) => [
          figure(`connector CPU per 1,000 records, ${v.name} (same run, in turns)`, v.cpu, 'ms'),
          figure(`Kafka CPU per 1,000 records, ${v.name} (same run, in turns)`, v.kafka, 'ms'),
          figure(`ack latency p99, ${v.name} (same run, in turns)`, v.p99, 'ms'),
        ]),
      ],
      processes: [connectorUsage, ...extra.map((c) => c.usage()), ownUsage('bench:ingest (load)')],
      notes: [
        `rounds: ${rates.map((r) => Math.round(r)).join(', ')} records/s`,
        floorNote,
        loopNote,
        `load average before the run: ${loadBefore.join(', ')}`,
      ],
    });
  } finally {
    for (const c of extra) await c.stop();
    await connector.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:ingest] ${(error as Error).message}\n`);
  process.exitCode = 1;
});

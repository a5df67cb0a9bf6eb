/**
 * Ingest benchmark: records per second through a connector into Kafka (100 records per POST,
 * acks=all), then the acknowledgement latency at half that rate. It prints figures and asserts
 * nothing. Run with `npm run bench:ingest` (`-- --quick` for a short run); it brings the local
 * stack up if needed and runs the tax connector as a process of its own. With LIENTHONG_BENCH_JSON
 * set, it also writes its figures there as JSON, for `npm run bench` (report-format.ts).
 */
import { cpus } from 'node:os';
import { generateRecords } from '../../connectors/demo/generator';
import { type IngestLoad, loadConnector, median, startBenchConnector } from './connector-process';
import { ownUsage } from './process-usage';
import { atLeast, atMost, figure, writeBenchResult } from './report-format';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 5 : 10;
const RECORDS_PER_POST = 100;
const CONNECTIONS = 16;

const log = (line: string): void => {
  process.stderr.write(`[bench:ingest] ${line}\n`);
};

async function main(): Promise<void> {
  const connector = await startBenchConnector(log);
  const url = connector.url;
  try {
    const totalBodies = Math.ceil((ROUNDS * SECONDS * 40_000) / RECORDS_PER_POST);
    log(`generating ${totalBodies * RECORDS_PER_POST} distinct tax records`);
    const records = generateRecords('tax', totalBodies * RECORDS_PER_POST, Date.now() % 1_000_000);
    const bodies: string[] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_POST)
      bodies.push(JSON.stringify(records.slice(i, i + RECORDS_PER_POST)));
    let next = 0;
    const body = (): string => bodies[next++ % bodies.length] as string;
    const load = (options: Omit<IngestLoad, 'url' | 'headers' | 'body' | 'connections'>) =>
      loadConnector({ url, headers: connector.headers, body, connections: CONNECTIONS, ...options });

    // Warm-up: JIT, connections, the producer's first metadata.
    await load({ duration: 2 });

    const rates: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      log(`round ${round}/${ROUNDS}: ${CONNECTIONS} connections for ${SECONDS} s, as fast as acknowledged`);
      const result = await load({ duration: SECONDS });
      const rate = (result.ok * RECORDS_PER_POST) / SECONDS;
      log(`  ${Math.round(rate)} records/s (${result.ok} POSTs answered 200, ${result.errors} not)`);
      rates.push(rate);
    }
    const maxRate = median(rates);
    const halfRate = maxRate / 2;
    log(`latency at half the rate: ${Math.round(halfRate)} records/s for ${SECONDS} s`);
    const paced = await load({
      duration: SECONDS,
      overallRate: Math.max(1, Math.round(halfRate / RECORDS_PER_POST)),
    });
    const rss = connector.rssMiB();
    const connectorUsage = connector.usage();

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
    const halfRateText = `${Math.round(halfRate)} records/s, half the measured rate`;
    writeBenchResult({
      bench: 'ingest',
      mode: quick ? 'quick' : 'full',
      parameters: {
        rounds: ROUNDS,
        seconds: SECONDS,
        recordsPerPost: RECORDS_PER_POST,
        connections: CONNECTIONS,
      },
      figures: [
        figure(
          `ingest throughput, acks=all (median of ${ROUNDS})`,
          maxRate,
          'records/s',
          atLeast(20_000, '≥ 20,000 records/s'),
        ),
        figure(`ack latency p50 at ${halfRateText}`, paced.p50, 'ms'),
        figure(`ack latency p99 at ${halfRateText}`, paced.p99, 'ms', atMost(20, '≤ 20 ms at half the rate')),
        figure('connector RSS after the run (steady state)', rss, 'MiB', atMost(256, '≤ 256 MiB')),
        figure('POSTs not answered 200, paced run', paced.errors, 'POSTs'),
      ],
      processes: [connectorUsage, ownUsage('bench:ingest (autocannon load)')],
      notes: [`rounds: ${rates.map((r) => Math.round(r)).join(', ')} records/s`],
    });
  } finally {
    await connector.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:ingest] ${(error as Error).message}\n`);
  process.exitCode = 1;
});

/**
 * Security benchmark: what SASL_SSL (TLS plus SCRAM-SHA-512) costs ingest, against PLAINTEXT, in
 * one run on one broker. It starts a broker of its own in a scratch directory with both listeners
 * (the PLAINTEXT one exists for this benchmark only: `benchPlaintextPort`), and the tax connector
 * twice, as processes of their own, one per listener, both publishing to the same scratch topic.
 * Rounds of the same load alternate between them (100 records per POST, 16 connections, as fast as
 * acknowledged), so that a busy machine weighs on both alike. It prints the rate of each round, the
 * median of each protocol and their ratio, the CPU each side spends per record, and the cost of
 * opening a connection. It asserts nothing. Run with `npm run bench:security` (`-- --quick`:
 * rounds of 5 s; `-- --rounds N`: N rounds per protocol, 5 by default, 3 at least).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateRecords } from '../../connectors/demo/generator';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import {
  QUARANTINE_GROUP_PREFIX,
  quarantineTopicDeclaration,
  quarantineTopicFor,
} from '../../connectors/runtime/quarantine';
import { REDRIVE_LOG_TOPIC } from '../../services/platform/redrive-log';
import { LocalKafka } from '../../deploy/local/local-kafka';
import { LocalRegistry } from '../../deploy/local/local-registry';
import { stackConfig } from '../../deploy/local/stack';
import { DEFAULT_HEAP_MB } from '../../deploy/local/kafka-cluster';
import {
  agencyPrincipal,
  busGrants,
  busPrincipals,
  busTopics,
  type KafkaConnection,
  reconcileAclsOn,
  reconcileTopicsOn,
  SERVICE_PRINCIPALS,
} from '../../deploy/local/topics';
import { runContractTool } from '../../schemas/contract-tool';
import { agencyGrants, applyAcls, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import { isRetriable } from '../../services/platform/errors';
import { createKafka, withAdmin } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { freePort } from '../support/fixtures';
import { type BenchConnector, loadConnector, median, spawnBenchConnector } from './connector-process';
import { ownUsage, usageOf } from './process-usage';
import { figure, writeBenchResult } from './report-format';

const quick = process.argv.includes('--quick');
const roundsArgument = process.argv.indexOf('--rounds');
const ROUNDS = Math.max(3, roundsArgument > 0 ? Number(process.argv[roundsArgument + 1]) || 5 : 5);
const SECONDS = quick ? 5 : 10;
const RECORDS_PER_POST = 100;
const CONNECTIONS = 16;
/** Connections opened per protocol to time the set-up (TCP, then TLS and SCRAM, then metadata). */
const SETUPS = 20;
/** The principal Kafka gives a client of a PLAINTEXT listener. */
const ANONYMOUS = 'ANONYMOUS';
const SCRATCH_TOPIC = 'bench.security.tax';
const REGISTRY_TOPIC = '_schemas';
const ENTRY = 'test/bench/security-connector-main.ts';

const log = (line: string): void => {
  process.stderr.write(`[bench:security] ${line}\n`);
};

interface Side {
  protocol: 'PLAINTEXT' | 'SASL_SSL';
  connection: KafkaConnection;
  connector?: BenchConnector;
  rounds: {
    rate: number;
    ok: number;
    misses: number;
    timeouts: number;
    /** CPU ms per 1,000 acknowledged records, of the connector process and of the broker. */
    connectorCpu: number;
    brokerCpu: number;
  }[];
  setupMs: number[];
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'lienthong-bench-security-'));
  const [port, controllerPort, benchPlaintextPort, registryPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ] as [number, number, number, number];
  const kafka = new LocalKafka({
    stateDir: join(scratch, 'kafka'),
    port,
    controllerPort,
    heapMb: stackConfig().LOCAL_KAFKA_HEAP_MB ?? DEFAULT_HEAP_MB[1],
    securityDir: join(scratch, 'kafka-security'),
    principals: busPrincipals(),
    progress: log,
    benchPlaintextPort,
  });
  const taxPrincipal = agencyPrincipal('tax');
  const registry = new LocalRegistry({
    stateDir: join(scratch, 'registry'),
    port: registryPort,
    kafkaEnv: kafka.clientEnv(SERVICE_PRINCIPALS.registry),
    run: 'compiled',
    progress: log,
    env: { ...process.env, SCHEMA_REGISTRY_TOPIC: REGISTRY_TOPIC },
  });
  const plaintextEnv = {
    KAFKA_BROKERS: `127.0.0.1:${benchPlaintextPort}`,
    KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
  };
  const sides: Side[] = [];
  const loadBefore = loadavg();
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      log('stopping the connectors, the registry and the scratch broker');
      for (const side of sides) await side.connector?.stop();
      await registry.stop();
      await kafka.stop();
      rmSync(scratch, { recursive: true, force: true });
    })());
  // The broker and the registry run detached: an interrupted run stops them too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  try {
    log(`starting a scratch broker in ${scratch}: SASL_SSL on ${port}, PLAINTEXT on ${benchPlaintextPort}`);
    await kafka.start();
    await kafka.waitReady();
    // Their files exist once the broker has started.
    sides.push(
      {
        protocol: 'PLAINTEXT',
        connection: kafkaConnection(loadConfig(KafkaEnv, plaintextEnv)),
        rounds: [],
        setupMs: [],
      },
      { protocol: 'SASL_SSL', connection: kafka.connection(taxPrincipal), rounds: [], setupMs: [] },
    );
    const operator = kafka.connection(OPERATOR_PRINCIPAL);
    // A fresh broker may not yet serve a topic it has just created ("does not host this
    // topic-partition"); every step is idempotent, so the whole provisioning is tried again.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const quiet = (): void => undefined;
        await reconcileTopicsOn(operator, busTopics(REGISTRY_TOPIC), { apply: true, progress: quiet });
        await reconcileAclsOn(operator, busGrants(REGISTRY_TOPIC), { apply: true, progress: quiet });
        // One scratch topic for both sides, with the policy of a domain topic; the anonymous
        // principal gets exactly what the tax connector gets, on that topic only.
        const quarantine = quarantineTopicFor(SCRATCH_TOPIC);
        await withAdmin(operator, 'bench-security', async (admin) => {
          await ensurePolicyTopics(admin, [
            { topic: SCRATCH_TOPIC, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS },
            quarantineTopicDeclaration(SCRATCH_TOPIC),
          ]);
          await applyAcls(admin, [
            ...agencyGrants(taxPrincipal, SCRATCH_TOPIC, quarantine, {
              quarantineGroupPrefix: `${QUARANTINE_GROUP_PREFIX}${taxPrincipal}-`,
              redriveLogTopic: REDRIVE_LOG_TOPIC,
            }),
            ...agencyGrants(ANONYMOUS, SCRATCH_TOPIC, quarantine, {
              quarantineGroupPrefix: `${QUARANTINE_GROUP_PREFIX}${ANONYMOUS}-`,
              redriveLogTopic: REDRIVE_LOG_TOPIC,
            }),
          ]);
        });
        break;
      } catch (error) {
        if (!isRetriable(error) || attempt >= 8) throw error;
        log(`the broker is not ready for the topics yet (${(error as Error).message}); trying again`);
        await new Promise((done) => setTimeout(done, 500 * attempt));
      }
    }
    log('starting the schema registry and registering the contracts');
    await registry.start();
    await registry.waitReady();
    const keys = registry.keys();
    await runContractTool('register', { url: registry.url, keys });

    for (const side of sides) {
      log(`starting the tax connector on ${side.protocol}`);
      side.connector = await spawnBenchConnector({
        kafkaEnv: side.protocol === 'PLAINTEXT' ? plaintextEnv : kafka.clientEnv(taxPrincipal),
        registryUrl: registry.url,
        registryKey: keys['lienthong-reader'] ?? '',
        // A bench's own entry point, not in the build; both sides run it the same way.
        entry: { main: ENTRY, args: [SCRATCH_TOPIC] },
        run: 'source',
      });
    }

    log(`timing ${SETUPS} connection set-ups per protocol, alternately`);
    for (let i = 0; i < SETUPS; i += 1)
      for (const side of sides) side.setupMs.push(await timeSetup(side.connection));

    log('generating the tax records');
    const records = generateRecords('tax', 2_000 * RECORDS_PER_POST, Date.now() % 1_000_000);
    const bodies: string[] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_POST)
      bodies.push(JSON.stringify(records.slice(i, i + RECORDS_PER_POST)));
    let next = 0;
    const body = (): string => bodies[next++ % bodies.length] as string;
    const load = (connector: BenchConnector, duration: number) =>
      loadConnector({
        url: connector.url,
        headers: connector.headers,
        body,
        connections: CONNECTIONS,
        duration,
      });

    const brokerCpuSeconds = (): number => usageOf('kafka', kafka.pid() ?? 0).cpuSeconds;
    for (const side of sides) {
      log(`warming ${side.protocol} up for 2 s`);
      await load(connectorOf(side), 2);
    }
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const side of sides) {
        log(`round ${round}/${ROUNDS}, ${side.protocol}: ${CONNECTIONS} connections for ${SECONDS} s`);
        const cpuBefore = [connectorOf(side).usage().cpuSeconds, brokerCpuSeconds()];
        const result = await load(connectorOf(side), SECONDS);
        const cpu = [connectorOf(side).usage().cpuSeconds, brokerCpuSeconds()];
        const records = result.ok * RECORDS_PER_POST;
        const perThousand = (i: number) =>
          records > 0 ? (((cpu[i] ?? 0) - (cpuBefore[i] ?? 0)) * 1e6) / records : Number.NaN;
        side.rounds.push({
          rate: records / SECONDS,
          ok: result.ok,
          misses: result.errors,
          timeouts: result.timeouts,
          connectorCpu: perThousand(0),
          brokerCpu: perThousand(1),
        });
        const rate = records / SECONDS;
        log(
          `  ${Math.round(rate)} records/s acknowledged (${result.ok} POSTs answered 2xx, ` +
            `${result.errors} not, ${result.timeouts} of them timed out); load average ${loadavg()[0]?.toFixed(2)}`,
        );
      }
    }
    report(sides, loadBefore);
    writeResult(sides);
  } finally {
    await stopAll();
  }
}

function connectorOf(side: Side): BenchConnector {
  if (!side.connector) throw new Error(`the ${side.protocol} connector is not running`);
  return side.connector;
}

/** Milliseconds from a new client to its first metadata answer: TCP, TLS and SCRAM when on. */
async function timeSetup(connection: KafkaConnection): Promise<number> {
  const admin = createKafka({
    ...connection,
    clientId: 'bench-security-setup',
    logger: createLogger({ name: 'bench-security', level: 'silent' }),
  }).admin();
  const start = performance.now();
  try {
    await admin.connect();
    await admin.describeCluster();
    return performance.now() - start;
  } finally {
    await admin.disconnect();
  }
}

function report(sides: readonly Side[], loadBefore: number[]): void {
  const [plain, secure] = sides as [Side, Side];
  const rateOf = (side: Side) => median(side.rounds.map((r) => r.rate));
  const ratio = rateOf(plain) > 0 ? rateOf(secure) / rateOf(plain) : Number.NaN;
  const cpuOf = (side: Side, key: 'connectorCpu' | 'brokerCpu') =>
    `${median(side.rounds.map((r) => r[key])).toFixed(1)} ms`;
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');
  const row = (side: Side) =>
    `| ${side.protocol} | ${side.rounds.map((r) => Math.round(r.rate)).join(', ')} | ${Math.round(rateOf(side))} | ` +
    `${side.rounds.reduce((n, r) => n + r.misses, 0)} (${side.rounds.reduce((n, r) => n + r.timeouts, 0)} timeouts) | ` +
    `${median(side.setupMs).toFixed(1)} ms | ${cpuOf(side, 'connectorCpu')} | ${cpuOf(side, 'brokerCpu')} |`;
  process.stdout.write(
    [
      '',
      `security benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} cores, ${ROUNDS} rounds of ${SECONDS} s each, ` +
        `interleaved, ${RECORDS_PER_POST} records per POST, ${CONNECTIONS} connections, acks=all, one broker`,
      '| listener | records/s by round | median | POSTs not answered 2xx | connection set-up (median) | ' +
        'connector CPU per 1,000 records (median) | broker CPU per 1,000 records (median) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row(plain),
      row(secure),
      `SASL_SSL / PLAINTEXT: ${ratio.toFixed(3)} (of the medians), ${median(pairRatios(sides)).toFixed(3)} ` +
        `(median of the rounds' ratios, each SASL_SSL round against the PLAINTEXT round just before it)`,
      `load average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadavg())} after`,
      '',
    ].join('\n'),
  );
}

/** Each SASL_SSL round's rate over the PLAINTEXT round's just before it: neighbours share the machine's load. */
function pairRatios(sides: readonly Side[]): number[] {
  const [plain, secure] = sides as [Side, Side];
  return secure.rounds.flatMap((r, i) => {
    const before = plain.rounds[i]?.rate ?? 0;
    return before > 0 ? [r.rate / before] : [];
  });
}

/** The figures for `npm run bench` (report-format.ts); none has a target in DESIGN.md. */
function writeResult(sides: readonly Side[]): void {
  const [plain, secure] = sides as [Side, Side];
  const rateOf = (side: Side) => median(side.rounds.map((r) => r.rate));
  const perSide = (side: Side) => [
    figure(
      `ingest throughput over ${side.protocol} (median of ${ROUNDS}, interleaved)`,
      rateOf(side),
      'records/s',
    ),
    figure(
      `POSTs not answered 2xx over ${side.protocol}`,
      side.rounds.reduce((n, r) => n + r.misses, 0),
      'POSTs',
    ),
    figure(`connection set-up over ${side.protocol} (median of ${SETUPS})`, median(side.setupMs), 'ms'),
    figure(
      `connector CPU per 1,000 records over ${side.protocol}`,
      median(side.rounds.map((r) => r.connectorCpu)),
      'ms',
    ),
    figure(
      `broker CPU per 1,000 records over ${side.protocol}`,
      median(side.rounds.map((r) => r.brokerCpu)),
      'ms',
    ),
  ];
  writeBenchResult({
    bench: 'security',
    mode: quick ? 'quick' : 'full',
    parameters: {
      rounds: ROUNDS,
      seconds: SECONDS,
      recordsPerPost: RECORDS_PER_POST,
      connections: CONNECTIONS,
    },
    figures: [
      ...perSide(plain),
      ...perSide(secure),
      figure('SASL_SSL / PLAINTEXT throughput, median of the paired rounds', median(pairRatios(sides)), ''),
      figure(
        'SASL_SSL / PLAINTEXT throughput (medians)',
        rateOf(plain) > 0 ? rateOf(secure) / rateOf(plain) : null,
        '',
      ),
    ],
    processes: [
      ...sides.map((side) => ({ ...connectorOf(side).usage(), name: `tax connector over ${side.protocol}` })),
      ownUsage('bench:security (autocannon load)'),
    ],
    notes: sides.map(
      (side) => `${side.protocol} rounds: ${side.rounds.map((r) => Math.round(r.rate)).join(', ')} records/s`,
    ),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:security] ${(error as Error).message}\n`);
  process.exitCode = 1;
});

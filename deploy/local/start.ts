import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { CONNECTOR_PORTS } from '../../connectors/runtime/config';
import { generateDemoData } from '../../connectors/demo/generator';
import { CONSOLE_PORT } from '../../services/console/config';
import { ensureSessionKeysFile } from '../../services/console/sealed-cookie';
import { runContractTool } from '../../schemas/contract-tool';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { ensureDevKeys, readPrivateKey } from '../../services/lookup/dev-keys';
import { LOOKUP_PORT } from '../../services/lookup/config';
import { mintToken } from '../../services/lookup/tokens';
import { offsetClock } from '../../services/platform/clock';
import { generateCredentials } from '../../services/platform/credentials';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { committedOffsets, endOffsets, withAdmin } from '../../services/platform/kafka';
import { changesTopicOfEnv, DEFAULT_SHARING_GROUP, SHARING_PORT } from '../../services/sharing/config';
import { sharingGroups } from '../../services/sharing/changes';
import { SUBSCRIPTIONS_PORT } from '../../services/subscriptions/config';
import { type BusProcess, startBusProcess, stopBusProcesses, waitReady } from './bus';
import { type ConnectorEndpoint, deskDossiers, loadDemoData, receptionRecord } from './demo';
import { type DemoFlows, startDemoFlows } from './demo-flows';
import { prepareRun } from './service-entry';
import { type LocalStack, type StackConfig } from './stack';
import { agencyPrincipal, type KafkaConnection, SERVICE_PRINCIPALS } from './topics';

/** The demo population: the same seed gives the same people, records and event ids. */
const DEMO_SEED = 2026;
const DEMO_CITIZENS = 150;
const DB = 'lienthong';
const SHARING_GROUP = DEFAULT_SHARING_GROUP;
const TOKEN_ISSUER = 'lienthong-dev';
const TOKEN_AUDIENCE = 'lienthong-lookup';
const TOKEN_TTL_SECONDS = 8 * 3_600;
/** The operator's client id at the connectors, for the console's quarantine page. */
const OPERATOR_CLIENT = 'lienthong-operator';

export interface RunningBus {
  /** Resolves once the printed lookups answer; rejects (after stopping) if the start fails. */
  ready: Promise<void>;
  /**
   * Stops the bus's processes, then the parts of the stack this run started. Safe at any moment
   * of the start, and more than once.
   */
  stop(): Promise<void>;
}

/**
 * What `npm start` does: the stack, the schemas, the registry's clients, the four connectors, the
 * sharing and lookup services as processes of their own with prefixed logs, the demo data through
 * the connectors, today's desk dossiers, and ready-to-paste lookups. Returns once the printed
 * lookups answer; `stop()` undoes it all.
 */
export function startBus(
  stack: LocalStack,
  config: StackConfig,
  out: { progress: (line: string) => void; print: (line: string) => void; log: (line: string) => void },
): RunningBus {
  const processes: BusProcess[] = [];
  const flows: DemoFlows[] = [];
  let started: string[] | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      out.progress('lienthong: stopping the services');
      await stopBusProcesses(processes, 15_000);
      for (const f of flows) await f.stop();
      // What this run started, or, if it was stopped while the stack came up, whatever is up now.
      const names =
        started ??
        stack
          .status()
          .filter((r) => r.state === 'running')
          .map((r) => r.name);
      if (names.length > 0) {
        out.progress(`lienthong: stopping what this run started: ${names.join(', ')}`);
        await stack.down(names);
      }
    })());
  const ready = run(
    stack,
    config,
    out,
    processes,
    flows,
    (names) => (started = names),
    () => stopping !== undefined,
  ).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { ready, stop };
}

async function run(
  stack: LocalStack,
  config: StackConfig,
  out: { progress: (line: string) => void; print: (line: string) => void; log: (line: string) => void },
  processes: BusProcess[],
  flows: DemoFlows[],
  onStackUp: (started: string[]) => void,
  stopped: () => boolean,
): Promise<void> {
  const { progress, print } = out;
  const began = Date.now();
  // One offset for this process and every service it starts: they all read the same time.
  const offsetMs = config.LIENTHONG_CLOCK_OFFSET_MS;
  const clock = offsetClock(offsetMs);
  if (offsetMs !== 0)
    progress(
      `lienthong: the clock reads ${new Date(clock()).toISOString()}, ${offsetMs} ms from the system time (LIENTHONG_CLOCK_OFFSET_MS)`,
    );
  progress('lienthong: bringing the local stack up');
  const reports = await stack.up();
  onStackUp(reports.filter((r) => r.state === 'started').map((r) => r.name));
  const check = (): void => {
    if (stopped()) throw new Error('stopped while starting');
  };
  const registryKeys = stack.registry?.keys() ?? readRegistryKeys();
  progress("lienthong: registering the agencies' schemas");
  const registered = await runContractTool('register', {
    url: stack.endpoints.SCHEMA_REGISTRY_URL,
    keys: registryKeys,
  });
  if (registered !== 0) throw new Error('the schemas could not be registered');
  // The local broker's topics and ACLs were brought to the policy by `stack.up()`; an external
  // broker is only checked, by each service at start: its operator runs `stack:topics -- --apply`.

  const state = join(config.LIENTHONG_STATE_DIR, 'bus');
  mkdirSync(state, { recursive: true, mode: 0o700 });
  const apiKeys = connectorKeys(join(state, 'connector-keys.json'));
  const lookupKeys = ensureDevKeys(join(config.LIENTHONG_STATE_DIR, 'lookup'));
  const common = {
    MONGODB_URI: stack.endpoints.MONGODB_URI,
    MONGODB_DB: DB,
    SHARING_GROUP_ID: SHARING_GROUP,
    SCHEMA_REGISTRY_URL: stack.endpoints.SCHEMA_REGISTRY_URL,
    SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
    SCHEMA_REGISTRY_KEY: registryKeys['lienthong-reader'] ?? '',
    LIENTHONG_CLOCK_OFFSET_MS: String(offsetMs),
    // Quiet by default, but for the lookups themselves: one line per answer, by route pattern.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };

  check();
  // The services run compiled, as they are deployed: a build of these very sources.
  prepareRun(config.LIENTHONG_RUN, progress);
  progress(
    `lienthong: starting the connectors, the sharing service and the lookup service (${config.LIENTHONG_RUN})`,
  );
  for (const topic of TOPIC_NAMES) {
    processes.push(
      startBusProcess(
        {
          name: `connector ${topic}`,
          main: `connectors/${topic}/main.ts`,
          run: config.LIENTHONG_RUN,
          port: CONNECTOR_PORTS[topic],
          env: {
            ...common,
            // Each process is a principal of its own, allowed only what the ACLs grant it.
            ...stack.kafkaEnv(agencyPrincipal(topic)),
            CONNECTOR_API_KEYS_FILE: join(state, 'connector-keys.json'),
            CONNECTOR_SPOOL_DIR: join(state, 'spool', topic),
          },
        },
        out.log,
      ),
    );
  }
  // The connectors first, as the sharing service reads what they publish.
  await Promise.all(processes.map((p) => waitReady(p, 90_000)));
  check();
  processes.push(
    startBusProcess(
      {
        name: 'sharing',
        main: 'services/sharing/main.ts',
        run: config.LIENTHONG_RUN,
        port: SHARING_PORT,
        env: { ...common, ...stack.kafkaEnv(SERVICE_PRINCIPALS.sharing) },
      },
      out.log,
    ),
  );
  processes.push(
    startBusProcess(
      {
        name: 'lookup',
        main: 'services/lookup/main.ts',
        run: config.LIENTHONG_RUN,
        port: LOOKUP_PORT,
        env: {
          ...common,
          ...stack.kafkaEnv(SERVICE_PRINCIPALS.lookup),
          LOOKUP_JWT_KEYS_FILE: lookupKeys.tokenPublicKeys,
          LOOKUP_AUDIT_SEAL_KEY_FILE: lookupKeys.auditSealKey,
          LOOKUP_JWT_ISSUER: TOKEN_ISSUER,
          LOOKUP_JWT_AUDIENCE: TOKEN_AUDIENCE,
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        },
      },
      out.log,
    ),
  );
  await Promise.all(processes.map((p) => waitReady(p, 90_000)));
  const lookup = processes.at(-1) as BusProcess;
  const sharing = processes.at(-2) as BusProcess;
  const connectors = Object.fromEntries(
    TOPIC_NAMES.map((topic, i) => [
      topic,
      {
        url: (processes[i] as BusProcess).url,
        apiKey: `${TOPICS[topic].owner}.${apiKeys[TOPICS[topic].owner]}`,
      },
    ]),
  ) as Record<TopicName, ConnectorEndpoint>;

  progress(`lienthong: loading the demo data (${DEMO_CITIZENS} citizens) through the connectors`);
  const loaded = await loadDemoData(connectors, { seed: DEMO_SEED, citizens: DEMO_CITIZENS, progress });
  await waitCaughtUp(stack.kafkaConnection(OPERATOR_PRINCIPAL), progress);

  const subjects = await pickSubjects(stack.endpoints.MONGODB_URI);

  // The agency systems' flows: the subscriptions service, the tax department's webhook receiver
  // and its consumer of the derived topic, then a new enterprise and a vehicle transfer.
  check();
  progress("lienthong: starting the subscriptions service and the tax department's demo system");
  const store = new MongoClient(stack.endpoints.MONGODB_URI);
  await store.connect();
  const agencySystems = await startDemoFlows({
    data: generateDemoData({ seed: DEMO_SEED, citizens: DEMO_CITIZENS }),
    connectors,
    taxKafka: stack.kafkaConnection(agencyPrincipal('tax')),
    registry: {
      url: stack.endpoints.SCHEMA_REGISTRY_URL,
      username: 'lienthong-reader',
      password: registryKeys['lienthong-reader'] ?? '',
    },
    store,
    db: DB,
    clock,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  flows.push({
    ...agencySystems,
    stop: async () => {
      await agencySystems.stop();
      await store.close();
    },
  });
  const endpointsFile = join(state, 'subscription-endpoints.json');
  writeFileSync(endpointsFile, JSON.stringify({ endpoints: [agencySystems.endpoint] }, null, 2), {
    mode: 0o600,
  });
  const taxSystemKey = subscriptionKeys(join(state, 'subscription-keys.json'));
  const subscriptions = startBusProcess(
    {
      name: 'subscriptions',
      main: 'services/subscriptions/main.ts',
      run: config.LIENTHONG_RUN,
      port: SUBSCRIPTIONS_PORT,
      env: {
        ...common,
        ...stack.kafkaEnv(SERVICE_PRINCIPALS.subscriptions),
        // It registers each agreement's derived schema.
        SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-operator',
        SCHEMA_REGISTRY_KEY: registryKeys['lienthong-operator'] ?? '',
        SUBSCRIPTIONS_ENDPOINTS_FILE: endpointsFile,
        SUBSCRIPTIONS_KEYS_FILE: join(state, 'subscription-keys.json'),
      },
    },
    out.log,
  );
  processes.push(subscriptions);
  await waitReady(subscriptions, 90_000);
  progress(
    'lienthong: a new enterprise at HN-DKKD and a vehicle transfer at HN-PC08 reach the tax department',
  );
  const flowResult = await agencySystems.run(subjects);
  // One instant for the ids and the dates, even if midnight passes meanwhile.
  const now = clock();
  const desks = deskDossiers(now, subjects);
  const response = await fetch(`${connectors.dossier.url}/v1/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': connectors.dossier.apiKey },
    body: JSON.stringify(desks.map((d) => receptionRecord(d, now))),
  });
  if (response.status !== 200) throw new Error(`the desk dossiers were refused: ${await response.text()}`);

  const signing = readPrivateKey(lookupKeys.tokenSigningKey);
  const token = (sub: string, role: 'officer' | 'auditor' | 'citizen', agency?: string) =>
    mintToken(
      signing,
      { sub, role, ...(agency ? { agency } : {}) },
      {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        ttlSeconds: TOKEN_TTL_SECONDS,
        now: clock(),
      },
    );
  const [transfer, amendment] = desks as [(typeof desks)[0], (typeof desks)[0]];
  const tokens = {
    police: token('CB-PC08-0001', 'officer', 'HN-PC08'),
    registration: token('CB-SKHDT-0001', 'officer', 'HN-SKHDT'),
    auditor: token('TT-0001', 'auditor', 'HN-TTRA'),
    citizen: token(subjects.buyer, 'citizen'),
  };
  const lookups = [
    {
      what: `the buyer in a vehicle transfer at ${transfer.agency}`,
      path: `/v1/citizens/${subjects.buyer}`,
      token: 'POLICE',
      dossier: transfer.dossierId,
    },
    {
      what: `the enterprise amending its registration at ${amendment.agency}`,
      path: `/v1/enterprises/${subjects.enterprise}`,
      token: 'REGISTRATION',
      dossier: amendment.dossierId,
    },
    {
      what: 'its legal representative, for the same dossier',
      path: `/v1/citizens/${subjects.representative}`,
      token: 'REGISTRATION',
      dossier: amendment.dossierId,
    },
  ];
  const bearer = { POLICE: tokens.police, REGISTRATION: tokens.registration };
  for (const l of lookups)
    await waitAnswer(`${lookup.url}${l.path}`, bearer[l.token as keyof typeof bearer], l.dossier);

  // The console, in development mode: its sign-in page offers these identities, with tokens from
  // the same dev issuer as above, and the operator's development credentials.
  check();
  const demoFile = join(state, 'console-demo.json');
  writeFileSync(
    demoFile,
    JSON.stringify(
      {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        demo: [
          {
            label: `CB-PC08-0001, HN-PC08`,
            role: 'officer',
            sub: 'CB-PC08-0001',
            agency: 'HN-PC08',
            dossierId: transfer.dossierId,
          },
          {
            label: `CB-SKHDT-0001, HN-SKHDT`,
            role: 'officer',
            sub: 'CB-SKHDT-0001',
            agency: 'HN-SKHDT',
            dossierId: amendment.dossierId,
          },
          { label: 'TT-0001, HN-TTRA', role: 'auditor', sub: 'TT-0001', agency: 'HN-TTRA' },
          { label: subjects.buyer, role: 'citizen', sub: subjects.buyer },
          { label: OPERATOR_CLIENT, role: 'operator', sub: OPERATOR_CLIENT },
        ],
        operator: {
          registry: { username: 'lienthong-reader', password: registryKeys['lienthong-reader'] ?? '' },
          connectorKey: `${OPERATOR_CLIENT}.${apiKeys[OPERATOR_CLIENT]}`,
        },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  const consoleProcess = startBusProcess(
    {
      name: 'console',
      main: 'services/console/main.ts',
      run: config.LIENTHONG_RUN,
      port: CONSOLE_PORT,
      env: {
        LIENTHONG_CLOCK_OFFSET_MS: String(offsetMs),
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        CONSOLE_MODE: 'development',
        CONSOLE_DEV_STATE_DIR: join(config.LIENTHONG_STATE_DIR, 'lookup'),
        CONSOLE_DEMO_FILE: demoFile,
        // Unused by the development sign-in, ready for an issuer set in the environment.
        CONSOLE_SESSION_KEYS_FILE: ensureSessionKeysFile(join(state, 'console-session-keys')),
        CONSOLE_LOOKUP_URL: lookup.url,
        CONSOLE_SHARING_URL: sharing.url,
        CONSOLE_REGISTRY_URL: stack.endpoints.SCHEMA_REGISTRY_URL,
        CONSOLE_CONNECTOR_URLS: JSON.stringify(
          Object.fromEntries(TOPIC_NAMES.map((topic) => [topic, connectors[topic].url])),
        ),
      },
    },
    out.log,
  );
  processes.push(consoleProcess);
  await waitReady(consoleProcess, 90_000);

  print('');
  print(
    `lienthong is running (ready in ${Math.round((Date.now() - began) / 1000)} s). Ctrl-C stops everything it started.`,
  );
  print('');
  for (const r of reports) print(`  ${r.name.padEnd(22)} ${r.endpoint}`);
  for (const p of processes) print(`  ${p.name.padEnd(22)} ${p.url}`);
  print(`  ${'API description'.padEnd(22)} ${lookup.url}/openapi.json`);
  print(`  ${'console (browser)'.padEnd(22)} ${consoleProcess.url}/`);
  print('');
  print(
    `Demo data: ${loaded.accepted} records accepted through the connectors; today's desk dossiers ${desks.map((d) => d.dossierId).join(', ')}.`,
  );
  print('Tokens, valid for 8 hours (`npm run lookup:token` mints more):');
  print(`  export POLICE=${tokens.police}`);
  print(`  export REGISTRATION=${tokens.registration}`);
  print(`  export AUDITOR=${tokens.auditor}`);
  print(`  export CITIZEN=${tokens.citizen}`);
  print('');
  print('Officers, each bound to the dossier they handle:');
  for (const l of lookups) {
    print(`  # ${l.what}`);
    print(
      `  curl -s -H "Authorization: Bearer $${l.token}" -H 'X-Dossier-Id: ${l.dossier}' ${lookup.url}${l.path}`,
    );
  }
  print('Agency systems, under the sharing agreements in services/subscriptions/agreements.json:');
  print(
    `  # (a) enterprise ${flowResult.enterpriseCode}, registered at HN-DKKD, reached the tax department's system by signed webhook (${agencySystems.endpoint.url});`,
  );
  print(
    `  #     it registered the taxpayer through the tax connector (${flowResult.registered} new of ${flowResult.received} enterprises received), and the enterprise view holds both:`,
  );
  print(
    `  curl -s -H "Authorization: Bearer $AUDITOR" ${lookup.url}/v1/audit/lineage/enterprises/${flowResult.enterpriseCode}`,
  );
  print(`  export TAX_SYSTEM=${taxSystemKey}`);
  print(
    `  curl -s -H "X-API-Key: $TAX_SYSTEM" '${subscriptions.url}/v1/subscriptions/${agencySystems.endpoint.id}/deliveries?limit=5'`,
  );
  print(
    `  # (b) the transfer of ${flowResult.plate} at HN-PC08 reached the tax department over agreement.tax-vehicle-transfers, read as its principal:`,
  );
  print(
    `  #     registration-fee notice: ${flowResult.notice.plate}, new owner ${flowResult.notice.newOwner}, previous owner ${flowResult.notice.previousOwner}, transferred ${flowResult.notice.transferredAt} (${flowResult.notices} notices read)`,
  );
  print(
    `  curl -s -H "X-API-Key: $TAX_SYSTEM" '${subscriptions.url}/v1/feeds/tax-vehicle-transfers?limit=5'`,
  );
  print('  # every delivery is a data flow in the audit trail, counted beside the lookups:');
  print(`  curl -s -H "Authorization: Bearer $AUDITOR" '${lookup.url}/v1/audit/flows?period=day'`);
  print('An auditor, and the citizen:');
  print(
    `  curl -s -H "Authorization: Bearer $AUDITOR" '${lookup.url}/v1/audit/records?subjectView=citizens&subjectId=${subjects.buyer}'`,
  );
  print(
    `  curl -s -H "Authorization: Bearer $AUDITOR" ${lookup.url}/v1/audit/lineage/citizens/${subjects.buyer}`,
  );
  print(
    `  curl -s -H "Authorization: Bearer $CITIZEN" ${lookup.url}/v1/citizens/${subjects.buyer}/access-log`,
  );
  print('');
}

/**
 * The tax department's system's key at the subscriptions service (`X-API-Key`), for its
 * deliveries and its feed: made once and kept, as the connectors' keys are.
 */
function subscriptionKeys(file: string): string {
  const secrets = `${file}.keys`;
  if (existsSync(file) && existsSync(secrets)) return readFileSync(secrets, 'utf8').trim();
  const { entries, keys } = generateCredentials([{ id: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' }]);
  writeFileSync(file, JSON.stringify({ clients: entries }, null, 2), { mode: 0o600 });
  const key = `HN-CUCTHUE.${keys['HN-CUCTHUE']}`;
  writeFileSync(secrets, key, { mode: 0o600 });
  return key;
}

/** The connectors' API keys: made once and kept, so that agencies' clients keep working. */
function connectorKeys(file: string): Record<string, string> {
  const secrets = `${file}.keys`;
  if (existsSync(file) && existsSync(secrets)) {
    const kept = JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, string>;
    if (kept[OPERATOR_CLIENT]) return kept;
    // A state made before the console: the operator's key is added, the agencies' keys are kept.
    const { entries, keys } = generateCredentials([{ id: OPERATOR_CLIENT, role: 'operator' }]);
    const file_ = JSON.parse(readFileSync(file, 'utf8')) as { clients: unknown[] };
    writeFileSync(file, JSON.stringify({ clients: [...file_.clients, ...entries] }, null, 2), {
      mode: 0o600,
    });
    writeFileSync(secrets, JSON.stringify({ ...kept, ...keys }, null, 2), { mode: 0o600 });
    return { ...kept, ...keys };
  }
  const owners = TOPIC_NAMES.map((t) => TOPICS[t].owner);
  const { entries, keys } = generateCredentials([
    ...owners.map((id) => ({ id, role: 'agency' as const, agency: id })),
    // The operator sees every connector's quarantine, from the console.
    { id: OPERATOR_CLIENT, role: 'operator' as const },
  ]);
  writeFileSync(file, JSON.stringify({ clients: entries }, null, 2), { mode: 0o600 });
  writeFileSync(secrets, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

function readRegistryKeys(): Record<string, string> {
  const file = process.env.SCHEMA_REGISTRY_KEYS_FILE;
  if (!file)
    throw new Error('SCHEMA_REGISTRY_URL is external: set SCHEMA_REGISTRY_KEYS_FILE to its client keys');
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

/**
 * Waits until the sharing service's consumer group has committed every message of the four
 * topics, and its changes group every message of the internal topic of changes when it routes
 * through one (the domain messages are committed once their changes are sent, before those are
 * applied): then every record the connectors accepted is in the views.
 */
async function waitCaughtUp(operator: KafkaConnection, progress: (line: string) => void): Promise<void> {
  await withAdmin(operator, 'lienthong-start', async (admin) => {
    // The sharing process inherits this environment (startBusProcess), and so its mode.
    const groups = sharingGroups(
      SHARING_GROUP,
      TOPIC_NAMES.map((t) => TOPICS[t].topic),
      changesTopicOfEnv(process.env),
    );
    const deadline = Date.now() + 600_000;
    let shown = 0;
    for (;;) {
      let behind = 0;
      let total = 0;
      for (const { groupId, topics } of groups) {
        const committed = await committedOffsets(admin, groupId, topics);
        for (const [partition, end] of await endOffsets(admin, topics)) {
          total += end;
          behind += Math.max(0, end - (committed.get(partition) ?? 0));
        }
      }
      if (behind === 0) return;
      if (Date.now() - shown > 2_000) {
        progress(`  the sharing service has ${behind} of ${total} messages still to apply`);
        shown = Date.now();
      }
      if (Date.now() > deadline) throw new Error(`the sharing service is still ${behind} messages behind`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
}

/**
 * Demo subjects with data from several agencies: a citizen who owns a vehicle and holds a tax
 * code, and an enterprise with a tax record whose legal representative holds one too.
 */
async function pickSubjects(
  uri: string,
): Promise<{ buyer: string; enterprise: string; representative: string }> {
  const client = new MongoClient(uri);
  await client.connect();
  try {
    const db = client.db(DB);
    const citizens = await db
      .collection<{ _id: string; vehicles?: object; tax?: object }>('citizens')
      .find({})
      .toArray();
    const withTax = new Set(citizens.filter((c) => c.tax && Object.keys(c.tax).length > 0).map((c) => c._id));
    const buyer = citizens.find(
      (c) => withTax.has(c._id) && c.vehicles && Object.keys(c.vehicles).length > 0,
    );
    const enterprises = await db
      .collection<{ _id: string; tax?: object; registration?: { legalRepresentativeCitizenId?: string } }>(
        'enterprises',
      )
      .find({})
      .toArray();
    const candidates = enterprises.filter((e) => e.tax && e.registration?.legalRepresentativeCitizenId);
    const enterprise =
      candidates.find((e) => withTax.has(e.registration?.legalRepresentativeCitizenId ?? '')) ??
      candidates[0];
    if (!buyer || !enterprise) throw new Error('the demo data holds no citizen or enterprise to show');
    return {
      buyer: buyer._id,
      enterprise: enterprise._id,
      representative: enterprise.registration?.legalRepresentativeCitizenId ?? '',
    };
  } finally {
    await client.close();
  }
}

/** Waits until a lookup answers 200: the desk dossier has reached the views. */
async function waitAnswer(url: string, token: string, dossier: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, 'x-dossier-id': dossier },
    });
    if (response.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDemoReceiver } from '../../deploy/local/demo-receiver';
import { taxConnector } from '../../connectors/tax/index';
import { createAuthenticator, generateCredentials } from '../../services/platform/credentials';
import { createLogger } from '../../services/platform/logger';
import { createMongoClient } from '../../services/platform/mongo';
import { DEFAULT_AGREEMENTS_FILE } from '../../services/subscriptions/config';
import { webhookEndpoints } from '../../services/subscriptions/endpoints';
import { newWebhookSecret } from '../../services/subscriptions/webhook-signature';
import { ensureSchemathesis, hypothesisStorage } from '../fuzz/schemathesis';
import { connectorHarness } from '../support/connector';
import { consoleHarness } from '../support/console';
import { endpoint, scratchDir } from '../support/fixtures';
import { lookupHarness } from '../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../support/lookup-story';
import { registryHarness } from '../support/registry';
import { subscriptionsHarness } from '../support/subscriptions';

/** What every answer must satisfy, in schemathesis's names. */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  // A method a path does not take: 405 with `Allow`.
  'unsupported_method',
  'allow_header_conformance',
].join(',');

/** Seconds of fuzzing per run unless it says; the whole file stays well under three minutes on two cores. */
const SECONDS_PER_RUN = 10;

/** How one run goes beyond its headers. */
interface RunOptions {
  seconds?: number;
  /**
   * A `schemathesis.toml` for the run: values of the test's own (an agreement id) that the
   * generator should try beside random ones, and parameters it must hold fixed.
   */
  config?: string;
}

/** Runs schemathesis against a service's own document; its exit status and its report. */
function fuzz(
  scratch: string,
  python: string,
  url: string,
  headers: Record<string, string>,
  options: RunOptions = {},
): Promise<{ status: number; output: string }> {
  let config: string[] = [];
  if (options.config) {
    const file = join(scratch, `schemathesis-${Math.random().toString(36).slice(2)}.toml`);
    writeFileSync(file, options.config);
    config = ['--config-file', file];
  }
  const args = [
    '-m',
    'schemathesis.cli',
    ...config,
    'run',
    `${url}/openapi.json`,
    '--url',
    url,
    '--checks',
    CHECKS,
    '--max-time',
    String(options.seconds ?? SECONDS_PER_RUN),
    '--workers',
    '1',
    '--suppress-health-check',
    'all',
    '--no-color',
    // No example kept from one run for the next: each run starts afresh, as in a new checkout.
    '--generation-database',
    ':memory:',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
  ];
  return new Promise((resolve, reject) => {
    // schemathesis keeps a cache of crashes in its working directory: a scratch one, not the checkout.
    const child = spawn(python, args, {
      cwd: scratch,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HYPOTHESIS_STORAGE_DIRECTORY: hypothesisStorage(python) },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ status: code ?? 1, output }));
  });
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('every HTTP service, fuzzed from its own OpenAPI document', () => {
  const registries = registryHarness();
  const connector = connectorHarness(taxConnector);
  const lookup = lookupHarness();
  const scratch = scratchDir('fuzz');
  // The bus's own agreements, with a webhook subscription to the first.
  const agreementsFile = JSON.parse(readFileSync(DEFAULT_AGREEMENTS_FILE, 'utf8')) as {
    agreements: Record<string, unknown>[];
  };
  const subscriptions = subscriptionsHarness(agreementsFile.agreements);
  const secret = newWebhookSecret();
  const receiver = createDemoReceiver({ secrets: [secret] });
  const taxSystem = generateCredentials([{ id: 'tax-system', role: 'agency', agency: 'HN-CUCTHUE' }]);
  const consoleServer = consoleHarness();
  let consoleToken = '';
  let python: string;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    // Builds the pinned environment on the first run only: a few minutes of PyPI downloads.
    python = await ensureSchemathesis();
    urls.registry = (await registries.start()).url();
    urls.connector = (await connector.start()).url();
    await lookup.setUp();
    // An open dossier for the officer's lookups, so that the fuzzer gets past the dossier checks.
    const events = lookupStoryEvents();
    await lookup.sharing.publish(events);
    await lookup.sharing.waitForEvents(events.length);
    urls.lookup = lookup.lookup().url();
    urls.sharing = lookup.sharing.service().url();

    // The subscriptions service with deliveries and feed entries to answer: the story's
    // enterprises and vehicles, derived under both agreements, and webhooks to a receiver.
    await subscriptions.setUp();
    const agreements = subscriptions.agreements();
    const service = await subscriptions.start(Date.now, agreements, {
      endpoints: webhookEndpoints(
        {
          endpoints: [
            {
              id: 'tax-enterprises',
              agreement: 'tax-new-enterprises',
              url: await receiver.start(),
              secrets: [secret],
            },
          ],
        },
        agreements,
      ),
      mongo: createMongoClient({
        uri: endpoint('MONGODB_URI'),
        appName: 'it-fuzz-subscriptions',
        logger: createLogger({ name: 'it-fuzz', level: 'silent' }),
      }),
      dbName: subscriptions.domain.dbName,
      authenticate: createAuthenticator(taxSystem.entries),
    });
    await subscriptions.domain.publish(events);
    for (let i = 0; receiver.events().length === 0; i += 1) {
      if (i > 300) throw new Error('no webhook was delivered');
      await new Promise((r) => setTimeout(r, 100));
    }
    urls.subscriptions = service.url();

    urls.console = await consoleServer.start(
      {
        lookup: urls.lookup,
        registry: urls.registry,
        sharing: urls.sharing,
        connectors: { tax: urls.connector },
      },
      lookup.tokenSigningKey,
    );
    const signIn = await fetch(`${urls.console}/console/dev/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'auditor', sub: 'TT-01', agency: 'HN-TTRA' }),
    });
    consoleToken = ((await signIn.json()) as { token: string }).token;
  }, 600_000);

  afterAll(async () => {
    await consoleServer.stop();
    await subscriptions.tearDown();
    await receiver.stop();
    await lookup.tearDown();
    await connector.dispose();
    await registries.stopAll();
    scratch.remove();
  });

  // The test's own agreement and subscription ids beside random ones, and no long poll: a
  // `wait` would hold a request for up to 25 s of the run's budget.
  const subscriptionsConfig = [
    '[dictionaries.ids]',
    'values = ["tax-new-enterprises", "tax-vehicle-transfers", "tax-enterprises"]',
    '[parameters]',
    '"path.agreement" = { dictionary = "ids", probability = 0.5 }',
    '"path.id" = { dictionary = "ids", probability = 0.5 }',
    '"query.wait" = 0',
  ].join('\n');

  // Every row has its options, `{}` for the defaults: jest-each takes a test function with more
  // parameters than its row has values for one that calls `done`, and waits for it until the timeout.
  const runs: [string, string, () => Record<string, string>, RunOptions][] = [
    [
      'registry',
      'with an operator',
      () => ({ authorization: basic('operator', registries.keys.operator) }),
      {},
    ],
    ['registry', 'without a credential', () => ({}), {}],
    ['connector', 'with the agency key', () => ({ 'x-api-key': connector.apiKey }), {}],
    ['connector', 'without a credential', () => ({}), {}],
    [
      'lookup',
      'with an auditor token',
      () => ({ authorization: `Bearer ${lookup.token('auditor', 'TT-01', 'HN-TTRA')}` }),
      {},
    ],
    [
      'lookup',
      'with an officer token and an open dossier',
      () => ({
        authorization: `Bearer ${lookup.officer(OPEN_DOSSIERS.transfer.agency)}`,
        'x-dossier-id': OPEN_DOSSIERS.transfer.id,
      }),
      {},
    ],
    ['lookup', 'without a credential', () => ({}), {}],
    ['sharing', 'as a probe', () => ({}), {}],
    [
      'subscriptions',
      "with the consumer agency's key",
      () => ({ 'x-api-key': `tax-system.${taxSystem.keys['tax-system']}` }),
      { seconds: 8, config: subscriptionsConfig },
    ],
    ['subscriptions', 'without a credential', () => ({}), { seconds: 4 }],
    [
      'console',
      'with a dev sign-in token',
      () => ({ authorization: `Bearer ${consoleToken}` }),
      { seconds: 5 },
    ],
    ['console', 'without a credential', () => ({}), { seconds: 4 }],
  ];

  it.each(runs)(
    '%s %s: no 5xx, every answer as documented',
    async (service, _who, headers, options) => {
      const { status, output } = await fuzz(
        scratch.path,
        python,
        urls[service] as string,
        headers(),
        options,
      );
      // Something was tried: schemathesis passes a run whose budget went before any test case.
      const tested = Number(/Tested: (\d+)/.exec(output)?.[1] ?? 0);
      const passed = status === 0 && tested > 0;
      // The report names each failing check with a reproducing curl command.
      expect({ passed, report: passed ? '' : output.slice(-6_000) }).toEqual({ passed: true, report: '' });
    },
    120_000,
  );
});

import { spawn } from 'node:child_process';
import { taxConnector } from '../../connectors/tax/index';
import { ensureSchemathesis } from '../fuzz/schemathesis';
import { connectorHarness } from '../support/connector';
import { scratchDir } from '../support/fixtures';
import { lookupHarness } from '../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../support/lookup-story';
import { registryHarness } from '../support/registry';

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

/** Seconds of fuzzing per run; the whole file stays well under three minutes on two cores. */
const SECONDS_PER_RUN = 10;

/** Runs schemathesis against a service's own document; its exit status and its report. */
function fuzz(
  scratch: string,
  python: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; output: string }> {
  const args = [
    '-m',
    'schemathesis.cli',
    'run',
    `${url}/openapi.json`,
    '--url',
    url,
    '--checks',
    CHECKS,
    '--max-time',
    String(SECONDS_PER_RUN),
    '--workers',
    '1',
    '--suppress-health-check',
    'all',
    '--no-color',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
  ];
  return new Promise((resolve, reject) => {
    // schemathesis keeps a cache of crashes in its working directory: a scratch one, not the checkout.
    const child = spawn(python, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
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
  }, 600_000);

  afterAll(async () => {
    await lookup.tearDown();
    await connector.dispose();
    await registries.stopAll();
    scratch.remove();
  });

  const runs: [string, string, () => Record<string, string>][] = [
    ['registry', 'with an operator', () => ({ authorization: basic('operator', registries.keys.operator) })],
    ['registry', 'without a credential', () => ({})],
    ['connector', 'with the agency key', () => ({ 'x-api-key': connector.apiKey })],
    ['connector', 'without a credential', () => ({})],
    [
      'lookup',
      'with an auditor token',
      () => ({ authorization: `Bearer ${lookup.token('auditor', 'TT-01', 'HN-TTRA')}` }),
    ],
    [
      'lookup',
      'with an officer token and an open dossier',
      () => ({
        authorization: `Bearer ${lookup.officer(OPEN_DOSSIERS.transfer.agency)}`,
        'x-dossier-id': OPEN_DOSSIERS.transfer.id,
      }),
    ],
    ['lookup', 'without a credential', () => ({})],
    ['sharing', 'as a probe', () => ({})],
  ];

  it.each(runs)(
    '%s %s: no 5xx, every answer as documented',
    async (service, _who, headers) => {
      const { status, output } = await fuzz(scratch.path, python, urls[service] as string, headers());
      // The report names each failing check with a reproducing curl command.
      expect({ status, report: status === 0 ? '' : output.slice(-6_000) }).toEqual({ status: 0, report: '' });
    },
    120_000,
  );
});

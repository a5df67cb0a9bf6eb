import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CONNECTOR_PORTS } from '../../connectors/runtime/config';
import { CONSOLE_PORT } from '../../services/console/config';
import { LOOKUP_PORT } from '../../services/lookup/config';
import { SHARING_PORT } from '../../services/sharing/config';
import { SUBSCRIPTIONS_PORT } from '../../services/subscriptions/config';
import { scratchDir } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const PORTS = [
  ...Object.values(CONNECTOR_PORTS),
  SHARING_PORT,
  LOOKUP_PORT,
  SUBSCRIPTIONS_PORT,
  CONSOLE_PORT,
];

/** What `npm start` printed that a newcomer would paste. */
interface Printed {
  tokens: Record<string, string>;
  lookups: { token: string; dossier: string; url: string }[];
  /** The auditor's view of the audit trail of the first lookup's subject. */
  auditUrl: string;
  /** The console's address, printed beside the services'. */
  consoleUrl: string;
  /** The agency systems' flows: the new enterprise, the transfer and where to watch them. */
  agencySystems: {
    enterprise?: string;
    plate?: string;
    notice?: { plate: string; newOwner: string };
    lineageUrl?: string;
    deliveriesUrl?: string;
    flowsUrl?: string;
  };
  output: string[];
}

/** An instant given as Hà Nội wall-clock time. */
const hanoi = (local: string): number => Date.parse(`${local}+07:00`);
/**
 * Yesterday in Hà Nội, `2026-12-01`: both pinned clocks lie in the past, so the store the tests
 * share gets no audit record or section dated later than the machine's time.
 */
const DAY = new Date(Date.now() + 7 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);

/**
 * `npm start` (the same `cli.ts start`) on the stack the tests share, given as external
 * endpoints, with its clock set to read `clockAt` now: it starts the four connectors and both
 * services, loads the demo data through the connectors, and prints lookups; resolves once it says
 * it is running. `offsetMs` is what the processes' clock is ahead of this one.
 */
function start(
  state: string,
  clockAt: number,
): { child: ChildProcess; printed: Promise<Printed>; offsetMs: number } {
  const offsetMs = clockAt - Date.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'deploy', 'local', 'cli.ts'), 'start'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LIENTHONG_STATE_DIR: state,
        // The services from the sources this test sits beside: `npm start` runs them compiled, after
        // a build that would cost this test half a minute (service-entry.ts; the benches run that).
        LIENTHONG_RUN: 'source',
        LOG_LEVEL: 'warn',
        LIENTHONG_CLOCK_OFFSET_MS: String(offsetMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const printed = new Promise<Printed>((done, fail) => {
    const tokens: Record<string, string> = {};
    const lookups: Printed['lookups'] = [];
    let auditUrl = '';
    let consoleUrl = '';
    const agencySystems: Printed['agencySystems'] = {};
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        output.push(line);
        const token = /^ {2}export (\w+)=(\S+)$/.exec(line);
        if (token?.[1] && token[2]) tokens[token[1]] = token[2];
        const curl = /curl -s -H "Authorization: Bearer \$(\w+)" -H 'X-Dossier-Id: ([^']+)' (\S+)$/.exec(
          line,
        );
        if (curl?.[1] && curl[2] && curl[3]) lookups.push({ token: curl[1], dossier: curl[2], url: curl[3] });
        const audit = /\$AUDITOR" '(\S+\/v1\/audit\/records\?\S+)'$/.exec(line);
        if (audit?.[1]) auditUrl = audit[1];
        const browser = /^ {2}console \(browser\)\s+(\S+)$/.exec(line);
        if (browser?.[1]) consoleUrl = browser[1];
        const registered = /# \(a\) enterprise (\d{10}), registered at HN-DKKD, reached/.exec(line);
        if (registered?.[1]) agencySystems.enterprise = registered[1];
        const transfer = /# \(b\) the transfer of (\S+) at HN-PC08 reached/.exec(line);
        if (transfer?.[1]) agencySystems.plate = transfer[1];
        const notice = /registration-fee notice: (\S+), new owner (\d{12}),/.exec(line);
        if (notice?.[1] && notice[2]) agencySystems.notice = { plate: notice[1], newOwner: notice[2] };
        const lineage = /\$AUDITOR" (\S+\/v1\/audit\/lineage\/enterprises\/\d+)$/.exec(line);
        if (lineage?.[1]) agencySystems.lineageUrl = lineage[1];
        const deliveries = /\$TAX_SYSTEM" '(\S+\/deliveries\S*)'$/.exec(line);
        if (deliveries?.[1]) agencySystems.deliveriesUrl = deliveries[1];
        const flows = /\$AUDITOR" '(\S+\/v1\/audit\/flows\S*)'$/.exec(line);
        if (flows?.[1]) agencySystems.flowsUrl = flows[1];
        // The citizen's access log is the last lookup printed.
        if (line.endsWith('/access-log'))
          done({ tokens, lookups, auditUrl, consoleUrl, agencySystems, output });
      });
    }
    child.once('exit', (code) =>
      fail(new Error(`npm start exited (${code}):\n${output.slice(-30).join('\n')}`)),
    );
  });
  return { child, printed, offsetMs };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGINT');
  return exited;
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

async function answer(lookup: Printed['lookups'][number], tokens: Record<string, string>) {
  const response = await fetch(lookup.url, {
    headers: { authorization: `Bearer ${tokens[lookup.token]}`, 'x-dossier-id': lookup.dossier },
  });
  return { status: response.status, body: (await response.json()) as { data: Record<string, unknown> } };
}

/** When the audit trail recorded the latest lookup of the subject, by the services' clock. */
async function lastAuditedAt(printed: Printed): Promise<number> {
  const response = await fetch(printed.auditUrl, {
    headers: { authorization: `Bearer ${printed.tokens.AUDITOR}` },
  });
  expect(response.status).toBe(200);
  const { records } = (await response.json()) as { records: { at: string }[] };
  return Date.parse(records[0]?.at ?? '');
}

/**
 * Both flows between agency systems happened: (a) the new enterprise's view holds the business
 * registration office's section and the tax department's, which its system registered on receiving
 * the webhook, whose delivery the subscriptions service lists; (b) the tax department read the
 * transfer's notice from its derived topic, naming the buyer at the desk; and the auditors' flows
 * count the deliveries.
 */
async function expectAgencyFlows(printed: Printed): Promise<void> {
  const flows = printed.agencySystems;
  expect(flows.enterprise).toMatch(/^\d{10}$/);
  const auditor = { authorization: `Bearer ${printed.tokens.AUDITOR}` };
  const lineage = await fetch(flows.lineageUrl ?? '', { headers: auditor });
  expect(lineage.status).toBe(200);
  const text = await lineage.text();
  expect(text).toContain('HN-DKKD');
  expect(text).toContain('HN-CUCTHUE');
  // The printed page shows the newest five; the whole log holds the registration.
  const deliveries = await fetch((flows.deliveriesUrl ?? '').replace('limit=5', 'limit=500'), {
    headers: { 'x-api-key': printed.tokens.TAX_SYSTEM ?? '' },
  });
  expect(deliveries.status).toBe(200);
  const listed = (await deliveries.json()) as { deliveries: { eventType: string; status: string }[] };
  expect(listed.deliveries).toContainEqual(
    expect.objectContaining({ eventType: 'EnterpriseRegistered', status: 'delivered' }),
  );
  const buyer = /\/v1\/citizens\/(\d{12})$/.exec(printed.lookups[0]?.url ?? '')?.[1];
  expect(flows.notice).toEqual({ plate: flows.plate, newOwner: buyer });
  const summary = await fetch(flows.flowsUrl ?? '', { headers: auditor });
  const rows = (
    (await summary.json()) as { flows: { readerAgency: string; sourceAgency: string; deliveries: number }[] }
  ).flows;
  for (const source of ['HN-DKKD', 'HN-PC08'])
    expect(
      rows
        .filter((r) => r.readerAgency === 'HN-CUCTHUE' && r.sourceAgency === source)
        .reduce((n, r) => n + r.deliveries, 0),
    ).toBeGreaterThan(0);
}

/** The dates in the lookups' `X-Dossier-Id`, the desk dossiers' Hà Nội day: `261201`. */
const dossierDates = (printed: Printed): string[] =>
  printed.lookups.map((l) => /H26-(\d{6})-/.exec(l.dossier)?.[1] ?? l.dossier);

describe('npm start', () => {
  const scratch = scratchDir('start');
  const started: ChildProcess[] = [];
  afterAll(async () => {
    // A start that a failed expectation left running, so that it frees the ports.
    for (const child of started) if (child.exitCode === null && child.signalCode === null) await stop(child);
    scratch.remove();
  });

  // 00:30 is in the night hours when a desk dossier received at 08:00 was in the future; 23:30 is
  // late on the same Hà Nội day, so the second start sends the same desk dossiers again.
  it('serves cross-agency lookups at 00:30 in Hà Nội, stops everything on Ctrl-C, and serves the same views at 23:30', async () => {
    const first = start(scratch.path, hanoi(`${DAY}T00:30:00`));
    started.push(first.child);
    const printed = await first.printed;
    expect(printed.lookups).toHaveLength(3);
    // The console is served beside the services, with the demo identities on its sign-in page.
    expect(printed.consoleUrl).toBe(`http://127.0.0.1:${CONSOLE_PORT}/`);
    expect((await fetch(printed.consoleUrl)).headers.get('content-type')).toMatch(/^text\/html/);
    const settings = (await (await fetch(`${printed.consoleUrl}console/config.json`)).json()) as {
      mode: string;
      demo: { role: string; dossierId?: string }[];
    };
    expect(settings.mode).toBe('development');
    expect(settings.demo.map((d) => d.role)).toEqual([
      'officer',
      'officer',
      'auditor',
      'citizen',
      'operator',
    ]);
    expect(settings.demo[0]?.dossierId).toBe(printed.lookups[0]?.dossier);
    const yymmdd = DAY.slice(2).replaceAll('-', '');
    expect(dossierDates(printed)).toEqual([yymmdd, yymmdd, yymmdd]);
    const answers = [];
    for (const lookup of printed.lookups) answers.push(await answer(lookup, printed.tokens));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    // The lookup service audited them by the clock it was given, not the machine's.
    const audited = await lastAuditedAt(printed);
    expect(audited).toBeGreaterThanOrEqual(hanoi(`${DAY}T00:30:00`));
    expect(audited).toBeLessThanOrEqual(Date.now() + first.offsetMs);
    const [citizen, enterprise, representative] = answers.map((a) => a.body.data) as Record<
      string,
      unknown[]
    >[];
    // Each answer holds sections that two agencies wrote: the police or the registration office, and tax.
    expect(citizen?.vehicles?.length).toBeGreaterThan(0);
    expect(citizen?.tax?.length).toBeGreaterThan(0);
    expect(enterprise?.registration).toBeDefined();
    expect(enterprise?.tax?.length).toBeGreaterThan(0);
    expect(representative?.enterprises?.length).toBeGreaterThan(0);
    await expectAgencyFlows(printed);

    expect(await stop(first.child)).toBe(0);
    expect(await Promise.all(PORTS.map(listening))).toEqual(PORTS.map(() => false));

    // Later the same Hà Nội day: the same desk dossiers, sent again, change nothing.
    const second = start(scratch.path, hanoi(`${DAY}T23:30:00`));
    started.push(second.child);
    const again = await second.printed;
    try {
      expect(again.lookups.map((l) => l.dossier)).toEqual(printed.lookups.map((l) => l.dossier));
      const repeated = [];
      for (const lookup of again.lookups) repeated.push(await answer(lookup, again.tokens));
      expect(repeated.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(repeated.map((a) => a.body.data)).toEqual(answers.map((a) => a.body.data));
      expect(await lastAuditedAt(again)).toBeGreaterThanOrEqual(hanoi(`${DAY}T23:30:00`));
      // The same flows again: the same records, which change no view.
      expect(again.agencySystems.enterprise).toBe(printed.agencySystems.enterprise);
      await expectAgencyFlows(again);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
    expect(await Promise.all(PORTS.map(listening))).toEqual(PORTS.map(() => false));
  }, 400_000);
});

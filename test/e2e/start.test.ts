import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CONNECTOR_PORTS } from '../../connectors/runtime/config';
import { LOOKUP_PORT } from '../../services/lookup/config';
import { SHARING_PORT } from '../../services/sharing/config';
import { scratchDir } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const PORTS = [...Object.values(CONNECTOR_PORTS), SHARING_PORT, LOOKUP_PORT];

/** What `npm start` printed that a newcomer would paste. */
interface Printed {
  tokens: Record<string, string>;
  lookups: { token: string; dossier: string; url: string }[];
  output: string[];
}

/**
 * `npm start` (the same `cli.ts start`) on the stack the tests share, given as external
 * endpoints: it starts the four connectors and both services, loads the demo data through the
 * connectors, and prints lookups; resolves once it says it is running.
 */
function start(state: string): { child: ChildProcess; printed: Promise<Printed> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'deploy', 'local', 'cli.ts'), 'start'],
    {
      cwd: ROOT,
      env: { ...process.env, LIENTHONG_STATE_DIR: state, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const printed = new Promise<Printed>((done, fail) => {
    const tokens: Record<string, string> = {};
    const lookups: Printed['lookups'] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        output.push(line);
        const token = /^ {2}export (\w+)=(\S+)$/.exec(line);
        if (token?.[1] && token[2]) tokens[token[1]] = token[2];
        const curl = /curl -s -H "Authorization: Bearer \$(\w+)" -H 'X-Dossier-Id: ([^']+)' (\S+)$/.exec(
          line,
        );
        if (curl?.[1] && curl[2] && curl[3]) lookups.push({ token: curl[1], dossier: curl[2], url: curl[3] });
        if (line.startsWith('An auditor, and the citizen')) done({ tokens, lookups, output });
      });
    }
    child.once('exit', (code) =>
      fail(new Error(`npm start exited (${code}):\n${output.slice(-30).join('\n')}`)),
    );
  });
  return { child, printed };
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

describe('npm start', () => {
  const scratch = scratchDir('start');
  afterAll(() => scratch.remove());

  it('serves cross-agency lookups, stops everything on Ctrl-C, and serves the same views again', async () => {
    const first = start(scratch.path);
    const printed = await first.printed;
    expect(printed.lookups).toHaveLength(3);
    const answers = [];
    for (const lookup of printed.lookups) answers.push(await answer(lookup, printed.tokens));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
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

    expect(await stop(first.child)).toBe(0);
    expect(await Promise.all(PORTS.map(listening))).toEqual(PORTS.map(() => false));

    const second = start(scratch.path);
    const again = await second.printed;
    try {
      const repeated = await answer(again.lookups[0] as Printed['lookups'][number], again.tokens);
      expect(repeated.status).toBe(200);
      expect(repeated.body.data).toEqual(answers[0]?.body.data);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
    expect(await Promise.all(PORTS.map(listening))).toEqual(PORTS.map(() => false));
  }, 400_000);
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_COOKIE_BYTES } from '../../../services/console/oidc-routes';
import { ensureSessionKeysFile } from '../../../services/console/sealed-cookie';
import { jwksKeys } from '../../../services/lookup/jwks-keys';
import { freePort } from '../../support/fixtures';
import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { type LocalIssuer, startLocalIssuer } from '../../support/oidc-issuer';
import { STORY } from '../../support/story';

/**
 * The production sign-in on the real stack: oidc-provider from npm as the issuer, the console's
 * own entry point configured by its variables, and the lookup service trusting the issuer's JWKS.
 * A client with a cookie jar follows every redirect by hand, as a browser would: console → issuer
 * → its sign-in form → back to the console's callback.
 *
 * Two more instances of the console, with the same keys, stand behind the same public URL, as pods
 * behind one Service: a request sent `via` one carries the cookies of that URL. The third's clock
 * is set a day ahead (`LIENTHONG_CLOCK_OFFSET_MS`), past every session's end.
 */
const ROOT = join(__dirname, '..', '..', '..');
const RESOURCE = 'urn:lienthong:lookup';
const CLIENT_ID = 'lienthong-console';
const CLIENT_SECRET = 'a-test-secret-of-the-console-0123456789';
const { land } = OPEN_DOSSIERS;
const OFFICER = 'cb-stnmt-07';
const AUDITOR = 'tt-0042';

let issuer: LocalIssuer;
const harness = lookupHarness({
  tokenIssuers: () => [
    {
      issuer: issuer.issuer,
      audience: RESOURCE,
      algorithms: ['RS256', 'ES256'],
      keys: jwksKeys({ issuer: issuer.issuer }),
      claims: {
        role: 'lienthong.roles',
        roles: { 'can-bo-mot-cua': 'officer', 'thanh-tra': 'auditor' },
        agency: 'lienthong.agency',
      },
    },
  ],
});
let consoleUrl: string;
const consoles: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'lienthong-oidc-'));
const keysFile = ensureSessionKeysFile(join(scratch, 'session-keys'));
/** The second instance, and the third, a day ahead. */
let other: string;
let dayAhead: string;

beforeAll(async () => {
  const port = await freePort();
  consoleUrl = `http://127.0.0.1:${port}`;
  issuer = await startLocalIssuer({
    client: {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: `${consoleUrl}/auth/callback`,
      post_logout_redirect_uri: consoleUrl,
    },
    accounts: {
      [OFFICER]: { roles: ['offline', 'can-bo-mot-cua'], agency: 'HN-STNMT' },
      [AUDITOR]: { roles: ['thanh-tra'], agency: 'HN-TTTP' },
      'khach-01': { roles: ['khach'] },
      'cb-no-agency': { roles: ['can-bo-mot-cua'] },
    },
    resource: RESOURCE,
  });
  const events = lookupStoryEvents();
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);

  const secretFile = join(scratch, 'client-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(scratch, 'index.html'), '<!doctype html><html lang="vi"></html>');
  const startConsole = async (at: number, env: Record<string, string> = {}): Promise<string> => {
    const started = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'services', 'console', 'main.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          // The refusals below are logged as warnings by design.
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
          HOST: '127.0.0.1',
          PORT: String(at),
          CONSOLE_MODE: 'production',
          CONSOLE_ASSETS_DIR: scratch,
          CONSOLE_LOOKUP_URL: harness.lookup().url(),
          CONSOLE_REGISTRY_URL: 'http://127.0.0.1:9',
          CONSOLE_SHARING_URL: 'http://127.0.0.1:9',
          CONSOLE_CONNECTOR_URLS: '{}',
          CONSOLE_PUBLIC_URL: consoleUrl,
          CONSOLE_OIDC_ISSUER: issuer.issuer,
          CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
          CONSOLE_OIDC_CLIENT_SECRET_FILE: secretFile,
          CONSOLE_OIDC_SCOPE: 'openid lienthong lookup',
          CONSOLE_OIDC_RESOURCE: RESOURCE,
          CONSOLE_OIDC_ROLE_CLAIM: 'lienthong.roles',
          CONSOLE_OIDC_ROLE_VALUES: JSON.stringify({ 'can-bo-mot-cua': 'officer', 'thanh-tra': 'auditor' }),
          CONSOLE_OIDC_AGENCY_CLAIM: 'lienthong.agency',
          CONSOLE_SESSION_KEYS_FILE: keysFile,
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    consoles.push(started);
    for (let ready = false; !ready;) {
      ready = await fetch(`http://127.0.0.1:${at}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return `http://127.0.0.1:${at}`;
  };
  const [otherPort, aheadPort] = [await freePort(), await freePort()];
  [, other, dayAhead] = await Promise.all([
    startConsole(port),
    startConsole(otherPort),
    startConsole(aheadPort, { LIENTHONG_CLOCK_OFFSET_MS: String(24 * 3_600_000) }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(
    consoles
      .filter((started) => started.exitCode === null)
      .map((started) => {
        const exited = new Promise((resolve) => started.once('exit', resolve));
        started.kill('SIGTERM');
        return exited;
      }),
  );
  await issuer?.stop();
  await harness.tearDown();
  rmSync(scratch, { recursive: true, force: true });
});

/** A browser's cookies, per origin, and its requests with redirects left to the test. */
class Browser {
  readonly cookies = new Map<string, Map<string, string>>();
  readonly setCookies: string[] = [];

  /** `via` sends the request to another instance behind the same URL, with that URL's cookies. */
  async go(url: string, init: RequestInit & { accept?: string; via?: string } = {}): Promise<Response> {
    const { origin } = new URL(url);
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    this.cookies.set(origin, jar);
    const headers = new Headers(init.headers);
    headers.set('accept', init.accept ?? 'text/html');
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const sent = new URL(url);
    if (init.via !== undefined) sent.host = new URL(init.via).host;
    const response = await fetch(sent, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      if (origin === new URL(consoleUrl).origin) this.setCookies.push(line);
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), value);
    }
    return response;
  }

  /** Where a redirect points, absolute. */
  static next(response: Response, from: string): string {
    expect([302, 303]).toContain(response.status);
    return new URL(response.headers.get('location') ?? '', from).href;
  }
}

/**
 * Starts a sign-in at the console and goes through the issuer's form as `login`, up to the
 * console's callback URL, which is returned unvisited.
 */
async function toCallback(
  browser: Browser,
  login: string,
  start = `${consoleUrl}/auth/login`,
): Promise<{ callback: string; authorize: URL }> {
  const authorize = Browser.next(await browser.go(start), start);
  // The issuer's sign-in form, then its consent, each a POST to an interaction, until it sends the
  // browser back to the console.
  let at = Browser.next(await browser.go(authorize), authorize);
  while (new URL(at).pathname.startsWith('/interaction/')) {
    const submitted = await browser.go(at, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login }).toString(),
    });
    const resume = Browser.next(submitted, at);
    at = Browser.next(await browser.go(resume), resume);
  }
  const callback = at;
  expect(callback).toContain(`${consoleUrl}/auth/callback?`);
  return { callback, authorize: new URL(authorize) };
}

async function signIn(login: string): Promise<Browser> {
  const browser = new Browser();
  const { callback } = await toCallback(browser, login);
  const done = await browser.go(callback);
  expect(done.status).toBe(303);
  expect(done.headers.get('location')).toBe('/');
  return browser;
}

const json = async (response: Response) => (await response.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read answers loosely

describe('the console signed in through an OpenID Connect issuer', () => {
  it('asks for a code with PKCE S256, state and nonce, for the lookup API', async () => {
    const { authorize } = await toCallback(new Browser(), OFFICER);
    const asked = Object.fromEntries(authorize.searchParams);
    expect(asked).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${consoleUrl}/auth/callback`,
      code_challenge_method: 'S256',
      resource: RESOURCE,
    });
    expect(asked.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.state).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(asked.nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it("lets an officer look up through the console, audited under the issuer's subject, and an auditor find it", async () => {
    const officer = await signIn(OFFICER);
    const session = officer.setCookies.find((c) => c.startsWith('lienthong-session='));
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    const who = await officer.go(`${consoleUrl}/auth/session`, { accept: 'application/json' });
    const identity = await json(who);
    expect(identity).toMatchObject({ role: 'officer', sub: OFFICER, agency: 'HN-STNMT' });
    expect(JSON.stringify(identity)).not.toMatch(/eyJ/);

    const lookup = `${consoleUrl}/api/lookup/v1/citizens/${STORY.founder}`;
    const seen = await officer.go(lookup, {
      accept: 'application/json',
      headers: { 'x-dossier-id': land.id },
    });
    expect([seen.status, seen.status === 200 ? '' : await seen.text()]).toEqual([200, '']);
    expect(seen.headers.get('x-audit-record')).toBeTruthy();
    // Without the session, the same call carries no credential.
    const anonymous = await new Browser().go(lookup, {
      accept: 'application/json',
      headers: { 'x-dossier-id': land.id },
    });
    expect(anonymous.status).toBe(401);

    const auditor = await signIn(AUDITOR);
    const trail = await auditor.go(`${consoleUrl}/api/lookup/v1/audit/records?officerId=${OFFICER}`, {
      accept: 'application/json',
    });
    expect(trail.status).toBe(200);
    const { records } = await json(trail);
    expect(records[0]).toMatchObject({
      actor: { id: OFFICER, role: 'officer', agency: 'HN-STNMT' },
      subject: { view: 'citizens', id: STORY.founder },
      dossierId: land.id,
    });

    const out = await officer.go(`${consoleUrl}/auth/logout`, { method: 'POST', accept: 'application/json' });
    expect((await json(out)).endSessionUrl).toContain(`${issuer.issuer}/`);
    expect((await officer.go(`${consoleUrl}/auth/session`, { accept: 'application/json' })).status).toBe(401);
  });

  it('refuses a callback whose state is not the one it sent, in Vietnamese first', async () => {
    const browser = new Browser();
    const { callback } = await toCallback(browser, OFFICER);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'an-attackers-state');
    const answer = await browser.go(forged.href);
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('<html lang="vi">');
    expect(page).toContain('Không xác nhận được lượt đăng nhập');
    expect(page).toContain('OIDC_STATE_MISMATCH');
  });

  it('refuses a callback replayed, and a code used under another sign-in', async () => {
    const browser = new Browser();
    const { callback } = await toCallback(browser, OFFICER);
    expect((await browser.go(callback)).status).toBe(303);
    const replayed = await browser.go(callback, { accept: 'application/json' });
    expect(replayed.status).toBe(400);
    expect((await json(replayed)).code).toBe('OIDC_LOGIN_EXPIRED');

    // The code, stolen, brought back under a sign-in of the thief's own with its own state.
    const thief = new Browser();
    const start = Browser.next(await thief.go(`${consoleUrl}/auth/login`), consoleUrl);
    const theirs = new URL(callback);
    theirs.searchParams.set('state', new URL(start).searchParams.get('state') ?? '');
    const stolen = await thief.go(theirs.href, { accept: 'application/json' });
    expect(stolen.status).toBe(400);
    expect((await json(stolen)).code).toBe('OIDC_CODE_REJECTED');
  });

  it('never exchanges a code without its PKCE verifier, which the issuer would refuse', async () => {
    const browser = new Browser();
    const { callback } = await toCallback(browser, OFFICER);
    // The console's pending sign-in, and with it the verifier, is gone: it does not call the issuer.
    const lost = await new Browser().go(callback, { accept: 'application/json' });
    expect(lost.status).toBe(400);
    expect((await json(lost)).code).toBe('OIDC_LOGIN_EXPIRED');
    // The code alone, with the client's own secret, buys nothing at the issuer.
    const code = new URL(callback).searchParams.get('code') ?? '';
    const exchanged = await fetch(`${issuer.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${consoleUrl}/auth/callback`,
      }).toString(),
    });
    expect(exchanged.status).toBe(400);
    expect(await json(exchanged)).toMatchObject({ error: 'invalid_grant' });
  });

  it.each([
    ['a role it does not map', 'khach-01'],
    ['an officer without an agency', 'cb-no-agency'],
  ])(
    'refuses an account with %s, with a page that says what to do, and opens no session',
    async (_name, login) => {
      const browser = new Browser();
      const { callback } = await toCallback(browser, login);
      const answer = await browser.go(callback);
      expect(answer.status).toBe(403);
      const page = await answer.text();
      expect(page).toContain('Tài khoản chưa được cấp quyền dùng bảng điều khiển');
      expect(page).toContain('Hãy đề nghị bộ phận quản trị tài khoản');
      expect(page).toContain('<section lang="en">');
      expect(browser.setCookies.some((c) => c.startsWith('lienthong-session='))).toBe(false);
    },
  );

  describe('on two instances sharing the sealing keys, as two pods behind one Service', () => {
    const session = (browser: Browser, via?: string) =>
      browser.go(`${consoleUrl}/auth/session`, { accept: 'application/json', ...(via ? { via } : {}) });

    it('finishes on one instance a sign-in started on the other, and the session works on both', async () => {
      const browser = new Browser();
      const { callback } = await toCallback(browser, OFFICER, `${consoleUrl}/auth/login?returnTo=/tra-cuu`);
      const done = await browser.go(callback, { via: other });
      expect([done.status, done.status === 303 ? '' : await done.text()]).toEqual([303, '']);
      expect(done.headers.get('location')).toBe('/tra-cuu');
      const cookie = browser.setCookies.find((c) => c.startsWith('lienthong-session=')) ?? '';
      expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      // What a browser keeps of one cookie, the access and ID tokens included.
      expect(Buffer.byteLength(cookie)).toBeLessThanOrEqual(MAX_COOKIE_BYTES);
      for (const via of [undefined, other]) {
        const who = await session(browser, via);
        expect([via, who.status]).toEqual([via, 200]);
        expect(await json(who)).toMatchObject({ role: 'officer', sub: OFFICER, agency: 'HN-STNMT' });
      }
      const seen = await browser.go(`${consoleUrl}/api/lookup/v1/citizens/${STORY.founder}`, {
        accept: 'application/json',
        headers: { 'x-dossier-id': land.id },
      });
      expect(seen.status).toBe(200);
    });

    it('refuses a session cookie changed by a byte, or expired on its clock', async () => {
      const browser = new Browser();
      const { callback } = await toCallback(browser, AUDITOR);
      expect((await browser.go(callback)).status).toBe(303);
      const jar = browser.cookies.get(new URL(consoleUrl).origin) as Map<string, string>;
      const sealed = jar.get('lienthong-session') as string;
      const { expiresAt } = await json(await session(browser));

      const at = Math.floor(sealed.length / 2);
      jar.set(
        'lienthong-session',
        `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`,
      );
      for (const via of [undefined, other]) {
        const refused = await session(browser, via);
        expect([via, refused.status, (await json(refused)).code]).toEqual([via, 401, 'NO_SESSION']);
      }

      jar.set('lienthong-session', sealed);
      expect(Date.parse(expiresAt as string)).toBeLessThan(Date.now() + 24 * 3_600_000);
      const expired = await session(browser, dayAhead);
      expect([expired.status, (await json(expired)).code]).toEqual([401, 'NO_SESSION']);
      expect((await session(browser, other)).status).toBe(200);
    });

    it('refuses a callback replayed with a copy of the login cookie: the issuer takes a code once', async () => {
      const browser = new Browser();
      const { callback } = await toCallback(browser, OFFICER);
      const jar = browser.cookies.get(new URL(consoleUrl).origin) as Map<string, string>;
      const login = jar.get('lienthong-login') as string;
      expect((await browser.go(callback)).status).toBe(303);
      expect(jar.has('lienthong-login')).toBe(false);
      jar.set('lienthong-login', login);
      const replayed = await browser.go(callback, { accept: 'application/json', via: other });
      expect(replayed.status).toBe(400);
      expect((await json(replayed)).code).toBe('OIDC_CODE_REJECTED');
    });
  });
});

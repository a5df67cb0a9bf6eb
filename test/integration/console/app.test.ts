import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FastifyInstance } from 'fastify';
import { buildConsoleApp, type DevSignIn } from '../../../services/console/app';
import { keyIdOf } from '../../../services/lookup/audit-chain';
import { busIssuer, createTokenVerifier } from '../../../services/lookup/tokens';
import { createLogger } from '../../../services/platform/logger';

/** 00:30 on 2 December 2026 in Hà Nội: the console's pinned clock. */
const NOW = Date.parse('2026-12-02T00:30:00+07:00');
const { privateKey } = generateKeyPairSync('ed25519');
const dev: DevSignIn = {
  signingKey: privateKey,
  issuer: 'lienthong-dev',
  audience: 'lienthong-lookup',
  ttlSeconds: 600,
  demo: [{ label: 'CB-PC08-0001', role: 'officer', sub: 'CB-PC08-0001', agency: 'HN-PC08' }],
};

const page = mkdtempSync(join(tmpdir(), 'lienthong-console-unit-'));
writeFileSync(join(page, 'index.html'), '<!doctype html><html lang="vi"></html>');
const apps: FastifyInstance[] = [];
const build = async (devSignIn?: DevSignIn) => {
  const app = await buildConsoleApp({
    logger: createLogger({ name: 'unit-console', level: 'silent' }),
    assetsDir: page,
    upstreams: {
      lookup: 'http://127.0.0.1:9',
      registry: 'http://127.0.0.1:9',
      sharing: 'http://127.0.0.1:9',
      connectors: {},
    },
    clock: () => NOW,
    ...(devSignIn ? { devSignIn } : {}),
  });
  apps.push(app);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  // Over a real socket: light-my-request's `inject` cannot load under jest's CommonJS.
  return {
    async inject(request: { method?: string; url: string; payload?: unknown }) {
      const response = await fetch(`${base}${request.url}`, {
        method: request.method ?? 'GET',
        ...(request.payload === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.payload) }),
      });
      const body = await response.text();
      return {
        statusCode: response.status,
        headers: Object.fromEntries(response.headers),
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
        json: (): Record<string, any> => JSON.parse(body),
      };
    },
  };
};

afterAll(async () => {
  for (const app of apps) await app.close();
  rmSync(page, { recursive: true, force: true });
});

describe("the console's server", () => {
  it('in production, has no development sign-in and offers no identity', async () => {
    const app = await build();
    const settings = (await app.inject({ url: '/console/config.json' })).json();
    expect(settings).toMatchObject({ mode: 'production', demo: [], now: new Date(NOW).toISOString() });
    const minted = await app.inject({
      method: 'POST',
      url: '/console/dev/sign-in',
      payload: { role: 'auditor', sub: 'TT-0001', agency: 'HN-TTRA' },
    });
    expect(minted.statusCode).toBe(404);
    expect(minted.json().token).toBeUndefined();
  });

  it("in development, mints tokens the lookup service's verifier accepts, at the bus's time", async () => {
    const app = await build(dev);
    expect((await app.inject({ url: '/console/config.json' })).json()).toMatchObject({
      mode: 'development',
      demo: dev.demo,
    });
    const minted = await app.inject({
      method: 'POST',
      url: '/console/dev/sign-in',
      payload: { role: 'officer', sub: 'CB-STNMT-02', agency: 'HN-STNMT' },
    });
    expect(minted.statusCode).toBe(200);
    const publicKey = createPublicKey(privateKey);
    const verify = createTokenVerifier({
      issuers: [
        busIssuer({
          keys: new Map([[keyIdOf(publicKey), publicKey]]),
          issuer: dev.issuer,
          audience: dev.audience,
        }),
      ],
      clock: () => NOW,
    });
    expect(verify(`Bearer ${minted.json().token}`)).toEqual({
      ok: true,
      principal: expect.objectContaining({ id: 'CB-STNMT-02', agency: 'HN-STNMT', role: 'officer' }),
    });
  });

  it('refuses a bad identity with its field path, and an officer without an agency', async () => {
    const app = await build(dev);
    const bad = await app.inject({
      method: 'POST',
      url: '/console/dev/sign-in',
      payload: { role: 'officer', sub: 'x y' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'INVALID_REQUEST',
      errors: [{ path: 'body.sub', message: expect.stringContaining('pattern') }],
    });
    const agencyless = await app.inject({
      method: 'POST',
      url: '/console/dev/sign-in',
      payload: { role: 'officer', sub: 'CB-1' },
    });
    expect(agencyless.statusCode).toBe(400);
    expect(agencyless.json().errors).toEqual([
      { path: 'body.agency', message: 'is required for an officer' },
    ]);
  });

  it('serves its page with a policy that lets the browser reach its own origin only', async () => {
    const app = await build();
    const answer = await app.inject({ url: '/' });
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
    expect(answer.headers['content-security-policy']).toContain("connect-src 'self'");
    expect((await app.inject({ url: '/api/connectors/unknown/v1/quarantine' })).statusCode).toBe(404);
  });
});

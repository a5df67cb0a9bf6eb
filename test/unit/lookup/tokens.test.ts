import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { keyIdOf } from '../../../services/lookup/audit-chain';
import {
  busIssuer,
  createTokenVerifier,
  loadTokenKeys,
  type LookupRole,
  mintToken,
  type TokenKey,
  type TokenKeySource,
} from '../../../services/lookup/tokens';
import { configError } from '../../support/config-error';

const ISSUER = 'lienthong-test';
const AUDIENCE = 'lienthong-lookup';
const CITIZEN = '001195004321';
const trusted = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const kid = keyIdOf(trusted.publicKey);
const publicPem = trusted.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const verify = createTokenVerifier({
  issuers: [busIssuer({ keys: new Map([[kid, trusted.publicKey]]), issuer: ISSUER, audience: AUDIENCE })],
});

const options = { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 300 };

function bearer(
  claims: { sub: string; role: LookupRole; agency?: string },
  overrides: Partial<typeof options> & { now?: number; key?: KeyObject } = {},
): string {
  const { key = trusted.privateKey, ...rest } = overrides;
  return `Bearer ${mintToken(key, claims, { ...options, ...rest })}`;
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token put together by hand, signed by `signer` over its first two parts. */
function handMade(header: object, payload: object, signer: (input: Buffer) => Buffer): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

/** Claims that pass every check but the one a test changes. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1_000);
  return {
    sub: 'CB-000123',
    role: 'officer',
    agency: 'HN-PC08',
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

const signedByTrustedKey = (payload: object) =>
  handMade({ alg: 'EdDSA', typ: 'JWT', kid }, payload, (input) => sign(null, input, trusted.privateKey));

describe('createTokenVerifier', () => {
  describe('given a valid token', () => {
    it('knows an officer by staff id and agency', () => {
      expect(verify(bearer({ sub: 'CB-000123', role: 'officer', agency: 'HN-PC08' }))).toEqual({
        ok: true,
        principal: { id: 'CB-000123', role: 'officer', agency: 'HN-PC08' },
      });
    });

    it('knows an auditor by id and inspecting body', () => {
      expect(verify(bearer({ sub: 'TT-0042', role: 'auditor', agency: 'HN-TTTP' }))).toEqual({
        ok: true,
        principal: { id: 'TT-0042', role: 'auditor', agency: 'HN-TTTP' },
      });
    });

    it('knows a citizen by identity number, with no agency', () => {
      expect(verify(bearer({ sub: CITIZEN, role: 'citizen' }))).toEqual({
        ok: true,
        principal: { id: CITIZEN, role: 'citizen', agency: null },
      });
    });

    it('accepts a token put together by hand the same way, so the refusals below are about what they change', () => {
      expect(verify(`Bearer ${signedByTrustedKey(claims())}`)).toMatchObject({ ok: true });
    });
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('takes the scheme in any case: %s (RFC 9110 §11.1)', (scheme) => {
    const header = bearer({ sub: CITIZEN, role: 'citizen' }).replace('Bearer', scheme);
    expect(verify(header)).toMatchObject({ ok: true, principal: { id: CITIZEN } });
  });

  it.each([undefined, ''])('answers TOKEN_MISSING to the header %p', (header) => {
    expect(verify(header)).toEqual({ ok: false, refusal: 'TOKEN_MISSING' });
  });

  it.each([
    ['another scheme', (token: string) => token.replace('Bearer ', 'Basic ')],
    ['no scheme', (token: string) => token.replace('Bearer ', '')],
    ['two parts', (token: string) => token.split('.').slice(0, 2).join('.')],
    ['something after the token', (token: string) => `${token} x`],
  ])('answers TOKEN_INVALID to a header with %s', (_name, change) => {
    expect(verify(change(bearer({ sub: CITIZEN, role: 'citizen' })))).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });

  it('answers TOKEN_EXPIRED to a token whose minute ran out nine minutes ago', () => {
    const token = bearer(
      { sub: CITIZEN, role: 'citizen' },
      { now: Date.now() - 10 * 60_000, ttlSeconds: 60 },
    );
    expect(verify(token)).toEqual({ ok: false, refusal: 'TOKEN_EXPIRED' });
  });

  it.each([
    ['another audience', { audience: 'lienthong-sharing' }],
    ['another issuer', { issuer: 'somebody-else' }],
  ])('answers TOKEN_INVALID to a token for %s', (_name, overrides) => {
    expect(verify(bearer({ sub: CITIZEN, role: 'citizen' }, overrides))).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });

  it('answers TOKEN_INVALID to a token signed by a key it does not know', () => {
    expect(verify(bearer({ sub: CITIZEN, role: 'citizen' }, { key: stranger.privateKey }))).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });

  it("answers TOKEN_INVALID to a token that names a trusted key's id but is signed by another key", () => {
    const forged = handMade({ alg: 'EdDSA', typ: 'JWT', kid }, claims(), (input) =>
      sign(null, input, stranger.privateKey),
    );
    expect(verify(`Bearer ${forged}`)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
  });

  it('answers TOKEN_INVALID to an HS256 token keyed with the public key (algorithm confusion)', () => {
    const confused = handMade({ alg: 'HS256', typ: 'JWT', kid }, claims(), (input) =>
      createHmac('sha256', publicPem).update(input).digest(),
    );
    expect(verify(`Bearer ${confused}`)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
  });

  it('answers TOKEN_INVALID to an unsigned token (alg none), with or without a signature part', () => {
    const unsigned = handMade({ alg: 'none', typ: 'JWT', kid }, claims(), () => Buffer.alloc(0));
    expect(verify(`Bearer ${unsigned}`)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
    const padded = handMade({ alg: 'none', typ: 'JWT', kid }, claims(), () => Buffer.from('x'));
    expect(verify(`Bearer ${padded}`)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
  });

  it('answers TOKEN_INVALID to a token without an expiry', () => {
    expect(verify(`Bearer ${signedByTrustedKey(claims({ exp: undefined }))}`)).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });

  it.each([
    ['an officer without an agency', { sub: 'CB-000123', role: 'officer', agency: undefined }],
    ['an officer of an agency that is not a code', { sub: 'CB-000123', role: 'officer', agency: 'hn-pc08' }],
    ['an officer of a wildcard agency', { sub: 'CB-000123', role: 'officer', agency: 'HN-UBND-*' }],
    ['an auditor without an agency', { sub: 'TT-0042', role: 'auditor', agency: undefined }],
    ['a citizen whose id is not 12 digits', { sub: '00119500432', role: 'citizen', agency: undefined }],
    ['a citizen whose id is not digits', { sub: 'CB-000123456', role: 'citizen', agency: undefined }],
    ['a citizen with an agency', { sub: CITIZEN, role: 'citizen', agency: 'HN-PC08' }],
    ['a role the API does not know', { sub: 'CB-000123', role: 'admin', agency: 'HN-PC08' }],
    ['a subject with characters outside the id alphabet', { sub: 'CB 000123', role: 'officer' }],
  ])('answers TOKEN_INVALID to %s', (_name, overrides) => {
    expect(verify(`Bearer ${signedByTrustedKey(claims(overrides))}`)).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });
});

describe('mintToken', () => {
  it("names the signing key by its fingerprint in the token's kid", () => {
    const token = mintToken(trusted.privateKey, { sub: CITIZEN, role: 'citizen' }, options);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as object;
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid });
  });
});

describe('loadTokenKeys', () => {
  const VARIABLE = 'LOOKUP_JWT_KEYS_FILE';
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lookup-token-keys-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function keysFile(name: string, content: unknown): string {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

  it('reads each key under its fingerprint', () => {
    const file = keysFile('good.json', {
      keys: [
        { kid, publicKey: publicPem },
        { kid: keyIdOf(stranger.publicKey), publicKey: pemOf(stranger.publicKey) },
      ],
    });
    const keys = loadTokenKeys(file, VARIABLE);
    expect([...keys.keys()]).toEqual([kid, keyIdOf(stranger.publicKey)]);
    expect(keys.get(kid)?.equals(trusted.publicKey)).toBe(true);
  });

  it("refuses a key filed under another key's id", () => {
    const alias = keyIdOf(stranger.publicKey);
    const file = keysFile('alias.json', { keys: [{ kid: alias, publicKey: publicPem }] });
    expect(configError(() => loadTokenKeys(file, VARIABLE)).issues).toEqual([
      { variable: VARIABLE, message: `${VARIABLE}: ${file}: kid ${alias} is not its key's fingerprint` },
    ]);
  });

  it.each([
    ['Ed448', () => generateKeyPairSync('ed448').publicKey],
    ['ECDSA P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
  ])('refuses an %s key, even filed under its own fingerprint', (name, keyOf) => {
    const key = keyOf();
    const file = keysFile(`${name}.json`, { keys: [{ kid: keyIdOf(key), publicKey: pemOf(key) }] });
    expect(configError(() => loadTokenKeys(file, VARIABLE)).issues).toEqual([
      { variable: VARIABLE, message: `${VARIABLE}: ${file} holds a key that is not Ed25519` },
    ]);
  });

  it.each([
    ['that is not JSON', 'not-json', '{ keys', 'cannot be read as JSON'],
    ['that lists no keys', 'empty', { keys: [] }, 'lists no keys'],
    [
      'holding a key that is not PEM',
      'not-pem',
      { keys: [{ kid, publicKey: 'MCowBQYDK2VwAyEA' }] },
      'holds a key that is not a PEM public key',
    ],
  ])('refuses a file %s', (_name, name, content, message) => {
    const file = keysFile(`${name}.json`, content);
    expect(configError(() => loadTokenKeys(file, VARIABLE)).issues).toEqual([
      { variable: VARIABLE, message: `${VARIABLE}: ${file} ${message}` },
    ]);
  });
});

describe('createTokenVerifier on the bus clock', () => {
  /** An instant given as Hà Nội wall-clock time. */
  const hanoi = (local: string): number => Date.parse(`${local}+07:00`);
  const at = (now: number) =>
    createTokenVerifier({
      issuers: [busIssuer({ keys: new Map([[kid, trusted.publicKey]]), issuer: ISSUER, audience: AUDIENCE })],
      clock: () => now,
    });
  const eightHours = { ttlSeconds: 8 * 3_600 };

  it.each([
    ['00:30', '2026-12-02T00:30:00'],
    ['23:30', '2026-12-02T23:30:00'],
  ])('takes a token minted at %s Hà Nội time, at its own clock, until it expires', (_hour, local) => {
    const minted = hanoi(local);
    const token = bearer({ sub: CITIZEN, role: 'citizen' }, { ...eightHours, now: minted });
    expect(at(minted)(token)).toMatchObject({ ok: true });
    // Across midnight, and to the end of its eight hours with the 5 s tolerance.
    expect(at(minted + 8 * 3_600_000 + 4_999)(token)).toMatchObject({ ok: true });
    expect(at(minted + 8 * 3_600_000 + 5_000)(token)).toEqual({ ok: false, refusal: 'TOKEN_EXPIRED' });
  });

  it('reads the clock at every check, so that a token it verified once still expires', () => {
    let now = hanoi('2026-12-02T23:30:00');
    const verifyNow = createTokenVerifier({
      issuers: [busIssuer({ keys: new Map([[kid, trusted.publicKey]]), issuer: ISSUER, audience: AUDIENCE })],
      clock: () => now,
    });
    const token = bearer({ sub: CITIZEN, role: 'citizen' }, { ttlSeconds: 60, now });
    expect(verifyNow(token)).toMatchObject({ ok: true });
    now += 65_000;
    expect(verifyNow(token)).toEqual({ ok: false, refusal: 'TOKEN_EXPIRED' });
  });

  it('refuses a token before its nbf, beyond the 5 s tolerance', () => {
    const now = hanoi('2026-12-02T00:30:00');
    const seconds = Math.floor(now / 1_000);
    const token = `Bearer ${signedByTrustedKey(claims({ iat: seconds, nbf: seconds + 60, exp: seconds + 600 }))}`;
    expect(at(now)(token)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
    expect(at(now + 55_000)(token)).toMatchObject({ ok: true });
  });

  it.each([
    ['an exp that is not a number', { exp: 'tomorrow' }],
    ['an nbf that is not a number', { nbf: 'now' }],
  ])('refuses a token with %s', (_name, overrides) => {
    const token = `Bearer ${signedByTrustedKey(claims(overrides))}`;
    expect(verify(token)).toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
  });
});

describe('createTokenVerifier: token lifetime and issue time', () => {
  /** Hà Nội at night, a minute before midnight, as the bus's pinned clock reads it. */
  const night = Date.parse('2026-12-02T23:59:00+07:00');
  const seconds = Math.floor(night / 1_000);
  const verifyAt = (now: number, limits: { maxLifetimeMs?: number; iatSkewMs?: number } = {}) =>
    createTokenVerifier({
      issuers: [busIssuer({ keys: new Map([[kid, trusted.publicKey]]), issuer: ISSUER, audience: AUDIENCE })],
      clock: () => now,
      ...limits,
    });
  /** A token signed by the trusted key, issued `iat` and expiring `exp`, both in epoch seconds. */
  const forged = (iat: number | undefined, exp: number) =>
    `Bearer ${signedByTrustedKey(claims({ iat, exp }))}`;
  const HOUR = 3_600;

  it('takes a token of exactly 12 h, by default, across midnight', () => {
    expect(verifyAt(night)(forged(seconds, seconds + 12 * HOUR))).toMatchObject({ ok: true });
  });

  it.each([
    ['one second over 12 h', 12 * HOUR + 1],
    ['a hundred years', 100 * 365 * 24 * HOUR],
  ])('answers TOKEN_LIFETIME_TOO_LONG to a token that lives %s', (_name, lifetime) => {
    expect(verifyAt(night)(forged(seconds, seconds + lifetime))).toEqual({
      ok: false,
      refusal: 'TOKEN_LIFETIME_TOO_LONG',
    });
  });

  it('measures the lifetime from iat, so a token issued long ago and still valid is refused', () => {
    // Minted 30 days before the clock with 31 days to run: 1 day left, but 31 days of life.
    const iat = seconds - 30 * 24 * HOUR;
    expect(verifyAt(night)(forged(iat, iat + 31 * 24 * HOUR))).toEqual({
      ok: false,
      refusal: 'TOKEN_LIFETIME_TOO_LONG',
    });
  });

  it('takes the lifetime it is configured with', () => {
    const oneHour = verifyAt(night, { maxLifetimeMs: HOUR * 1_000 });
    expect(oneHour(forged(seconds, seconds + HOUR))).toMatchObject({ ok: true });
    expect(oneHour(forged(seconds, seconds + HOUR + 1))).toEqual({
      ok: false,
      refusal: 'TOKEN_LIFETIME_TOO_LONG',
    });
  });

  it('takes an iat up to 60 s ahead of the clock, by default, and refuses one beyond', () => {
    expect(verifyAt(night)(forged(seconds + 60, seconds + 60 + HOUR))).toMatchObject({ ok: true });
    expect(verifyAt(night)(forged(seconds + 61, seconds + 61 + HOUR))).toEqual({
      ok: false,
      refusal: 'TOKEN_ISSUED_IN_FUTURE',
    });
  });

  it('refuses a token issued tomorrow in Hà Nội, even with a short life', () => {
    const tomorrow = Math.floor(Date.parse('2026-12-03T08:00:00+07:00') / 1_000);
    expect(verifyAt(night)(forged(tomorrow, tomorrow + 600))).toEqual({
      ok: false,
      refusal: 'TOKEN_ISSUED_IN_FUTURE',
    });
  });

  it('takes the skew it is configured with', () => {
    const tenSeconds = verifyAt(night, { iatSkewMs: 10_000 });
    expect(tenSeconds(forged(seconds + 10, seconds + HOUR))).toMatchObject({ ok: true });
    expect(tenSeconds(forged(seconds + 11, seconds + HOUR))).toEqual({
      ok: false,
      refusal: 'TOKEN_ISSUED_IN_FUTURE',
    });
  });

  it('answers TOKEN_INVALID to a token without iat, whose lifetime cannot be known', () => {
    expect(verifyAt(night)(forged(undefined, seconds + 600))).toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
  });
});

describe('createTokenVerifier with an OpenID Connect issuer beside the bus issuer', () => {
  const IDP = 'https://id.hanoi.example';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  /** The issuer's key set as a key source would hold it; `rotated` appears only at a refresh. */
  const held = new Map<string, TokenKey>([
    ['rsa-1', { key: rsa.publicKey, alg: 'RS256' }],
    ['ec-1', { key: ec.publicKey }],
  ]);
  let refreshes = 0;
  const source: TokenKeySource = {
    key: (id) => held.get(id),
    refresh: async () => {
      refreshes += 1;
      held.set('ec-2', { key: rotated.publicKey });
    },
  };
  const verifyBoth = createTokenVerifier({
    issuers: [
      busIssuer({ keys: new Map([[kid, trusted.publicKey]]), issuer: ISSUER, audience: AUDIENCE }),
      {
        issuer: IDP,
        audience: 'urn:lienthong:lookup',
        algorithms: ['RS256', 'ES256'],
        keys: source,
        claims: {
          role: 'realm_access.roles',
          roles: { 'lienthong-officer': 'officer', 'lienthong-auditor': 'auditor' },
          agency: 'agency_code',
        },
      },
    ],
  });
  /** An access token's claims as the issuer writes them, but for what a test changes. */
  const idpClaims = (overrides: Record<string, unknown> = {}) =>
    claims({
      iss: IDP,
      aud: 'urn:lienthong:lookup',
      sub: 'f3a9c2d1-officer',
      role: undefined,
      agency: undefined,
      realm_access: { roles: ['offline_access', 'lienthong-officer'] },
      agency_code: 'HN-STNMT',
      ...overrides,
    });
  const rs256 = (payload: object, header: object = {}) =>
    handMade({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', ...header }, payload, (input) =>
      sign('sha256', input, rsa.privateKey),
    );
  const es256 = (payload: object, key: KeyObject, header: object) =>
    handMade({ alg: 'ES256', typ: 'at+jwt', ...header }, payload, (input) =>
      sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }),
    );
  const check = async (token: string) => verifyBoth(`Bearer ${token}`);

  beforeEach(() => {
    refreshes = 0;
  });

  it("maps an RS256 access token's claims to an officer of the agency they name", async () => {
    await expect(check(rs256(idpClaims()))).resolves.toEqual({
      ok: true,
      principal: { id: 'f3a9c2d1-officer', role: 'officer', agency: 'HN-STNMT' },
    });
  });

  it('takes an ES256 token by its kid, and still the bus issuer’s own tokens', async () => {
    await expect(check(es256(idpClaims(), ec.privateKey, { kid: 'ec-1' }))).resolves.toMatchObject({
      ok: true,
    });
    expect(verifyBoth(bearer({ sub: CITIZEN, role: 'citizen' }))).toMatchObject({ ok: true });
  });

  it('looks for a key id it does not hold once, and takes the token when the issuer has rotated to it', async () => {
    const pending = verifyBoth(`Bearer ${es256(idpClaims(), rotated.privateKey, { kid: 'ec-2' })}`);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ ok: true, principal: { role: 'officer' } });
    expect(refreshes).toBe(1);
  });

  it('refuses a key id the issuer does not publish, after looking', async () => {
    await expect(check(es256(idpClaims(), ec.privateKey, { kid: 'made-up' }))).resolves.toEqual({
      ok: false,
      refusal: 'TOKEN_INVALID',
    });
    expect(refreshes).toBe(1);
  });

  it.each([
    ['alg none, unsigned', () => handMade({ alg: 'none', kid: 'rsa-1' }, idpClaims(), () => Buffer.alloc(0))],
    [
      'HS256 keyed with the public key as the secret',
      () =>
        handMade({ alg: 'HS256', kid: 'rsa-1' }, idpClaims(), (input) =>
          createHmac('sha256', rsaPem).update(input).digest(),
        ),
    ],
    ["RS256 naming the EC key's id", () => rs256(idpClaims(), { kid: 'ec-1' })],
    [
      'PS256 with a key the issuer bound to RS256',
      () =>
        handMade({ alg: 'PS256', kid: 'rsa-1' }, idpClaims(), (input) =>
          sign('sha256', input, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }),
        ),
    ],
    [
      'EdDSA, which this issuer is not allowed',
      () => handMade({ alg: 'EdDSA', kid }, idpClaims(), (input) => sign(null, input, trusted.privateKey)),
    ],
    [
      "a signature by another key under the issuer's kid",
      () => es256(idpClaims(), rotated.privateKey, { kid: 'ec-1' }),
    ],
    [
      "the bus issuer's name, signed with the OIDC issuer's key",
      () => rs256(idpClaims({ iss: ISSUER, aud: AUDIENCE })),
    ],
    ["the OIDC issuer's name, signed with the bus issuer's key", () => signedByTrustedKey(idpClaims())],
    ['an issuer nobody trusts', () => rs256(idpClaims({ iss: 'https://evil.example' }))],
    ['another audience', () => rs256(idpClaims({ aud: 'urn:lienthong:sharing' }))],
    ['a role name the mapping does not know', () => rs256(idpClaims({ realm_access: { roles: ['admin'] } }))],
    [
      'two roles that map to two bus roles',
      () => rs256(idpClaims({ realm_access: { roles: ['lienthong-officer', 'lienthong-auditor'] } })),
    ],
    [
      'the bus role name itself, when the issuer maps names',
      () => rs256(idpClaims({ realm_access: { roles: ['officer'] } })),
    ],
    ['an officer without the agency claim', () => rs256(idpClaims({ agency_code: undefined }))],
    ['an agency claim that is not an agency code', () => rs256(idpClaims({ agency_code: ['HN-STNMT'] }))],
  ])('answers TOKEN_INVALID to %s', async (_name, forge) => {
    await expect(check(forge())).resolves.toEqual({ ok: false, refusal: 'TOKEN_INVALID' });
  });

  it('answers TOKEN_EXPIRED to an access token of the issuer that ran out', async () => {
    const now = Math.floor(Date.now() / 1_000);
    await expect(check(rs256(idpClaims({ iat: now - 900, exp: now - 300 })))).resolves.toEqual({
      ok: false,
      refusal: 'TOKEN_EXPIRED',
    });
  });

  it("holds the issuer's tokens to the same lifetime bound as the bus's", async () => {
    const now = Math.floor(Date.now() / 1_000);
    await expect(check(rs256(idpClaims({ iat: now, exp: now + 13 * 3_600 })))).resolves.toEqual({
      ok: false,
      refusal: 'TOKEN_LIFETIME_TOO_LONG',
    });
  });
});

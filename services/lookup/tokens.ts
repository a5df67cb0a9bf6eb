import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createDecoder, createSigner, createVerifier } from 'fast-jwt';
import { authorizationCredentials } from '../platform/authorization';
import { type Clock, systemClock } from '../platform/clock';
import { ConfigError } from '../platform/errors';
import { keyIdOf } from './audit-chain';

/** Who may call the lookup API, and what for. */
export const LOOKUP_ROLES = ['officer', 'auditor', 'citizen'] as const;
export type LookupRole = (typeof LOOKUP_ROLES)[number];

/**
 * A verified caller:
 * - an officer: `sub` is the officer's staff id and `agency` the agency they work for;
 * - an auditor: `sub` is the auditor's id and `agency` the inspecting body;
 * - a citizen: `sub` is their citizen identity number, with no agency.
 */
export interface LookupPrincipal {
  id: string;
  role: LookupRole;
  agency: string | null;
}

/** Why a token was refused; the answer is 401 with this code. */
export const TOKEN_REFUSALS = {
  TOKEN_MISSING: 'TOKEN_MISSING',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_INVALID: 'TOKEN_INVALID',
  /** `exp - iat` is longer than the service allows: a token made to outlive any session. */
  TOKEN_LIFETIME_TOO_LONG: 'TOKEN_LIFETIME_TOO_LONG',
  /** `iat` lies ahead of the bus's clock by more than the allowed skew. */
  TOKEN_ISSUED_IN_FUTURE: 'TOKEN_ISSUED_IN_FUTURE',
} as const;
export type TokenRefusal = (typeof TOKEN_REFUSALS)[keyof typeof TOKEN_REFUSALS];

/** The longest `exp - iat` accepted unless configured: a working day and its evening. */
export const DEFAULT_TOKEN_MAX_LIFETIME_MS = 12 * 3_600_000;
/** How far ahead of the bus's clock `iat` may lie unless configured: the issuer's clock is not ours. */
export const DEFAULT_TOKEN_IAT_SKEW_MS = 60_000;

export type TokenCheck = { ok: true; principal: LookupPrincipal } | { ok: false; refusal: TokenRefusal };

export interface TokenVerifierOptions {
  /** Public keys by key id (`kid`); only EdDSA tokens signed by one of them pass. */
  keys: ReadonlyMap<string, KeyObject>;
  issuer: string;
  audience: string;
  /** What `exp`, `nbf` and `iat` are checked against; the system clock by default. */
  clock?: Clock;
  /** The longest `exp - iat` accepted, in milliseconds; 12 h by default. */
  maxLifetimeMs?: number;
  /** How far `iat` may lie ahead of `clock`, in milliseconds; 60 s by default. */
  iatSkewMs?: number;
}

/** How far a token's `exp` and `nbf` may be off the bus's clock: the issuer's clock is not ours. */
const CLOCK_TOLERANCE_MS = 5_000;

/**
 * Verifies officers', auditors' and citizens' bearer tokens: EdDSA (Ed25519) signatures only, by
 * `kid`, with issuer, audience and expiry enforced and 5 s of clock tolerance. Signatures are
 * cached, so a busy officer's token is verified once, not at every lookup; `exp` and `nbf` are
 * checked at every lookup against `clock`, since fast-jwt reads only a fixed `clockTimestamp`.
 *
 * `iat` is required and bounds the token: `exp - iat` may not exceed `maxLifetimeMs`, and `iat` may
 * not lie ahead of `clock` by more than `iatSkewMs`. Together they cap how long a leaked or
 * carelessly minted token stays usable at `maxLifetimeMs + iatSkewMs` from now.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725 (JWT best current practices: pin algorithms, check aud)
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.6 (`iat`, the time the token was issued)
 */
export function createTokenVerifier(
  options: TokenVerifierOptions,
): (authorization: string | undefined) => TokenCheck {
  // One synchronous verifier per key: the token's `kid` picks it, and only EdDSA is accepted.
  const verifiers = new Map(
    [...options.keys].map(([kid, key]) => [
      kid,
      createVerifier({
        key: key.export({ type: 'spki', format: 'pem' }).toString(),
        algorithms: ['EdDSA'],
        allowedIss: options.issuer,
        allowedAud: options.audience,
        requiredClaims: ['sub', 'role', 'exp', 'iat', 'iss', 'aud'],
        // Checked below against the injected clock, which fast-jwt cannot call.
        ignoreExpiration: true,
        ignoreNotBefore: true,
        cache: 10_000,
      }) as (token: string) => Record<string, unknown>,
    ]),
  );
  const clock = options.clock ?? systemClock;
  const maxLifetimeMs = options.maxLifetimeMs ?? DEFAULT_TOKEN_MAX_LIFETIME_MS;
  const iatSkewMs = options.iatSkewMs ?? DEFAULT_TOKEN_IAT_SKEW_MS;
  const decodeHeader = createDecoder({ complete: true }) as (token: string) => { header: { kid?: unknown } };

  return (authorization) => {
    const token = authorizationCredentials(authorization, 'Bearer') ?? '';
    const match = /^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(token);
    if (!match?.[1])
      return refuse(authorization ? TOKEN_REFUSALS.TOKEN_INVALID : TOKEN_REFUSALS.TOKEN_MISSING);
    let claims: Record<string, unknown>;
    try {
      const kid = decodeHeader(match[1]).header.kid;
      const verify = typeof kid === 'string' ? verifiers.get(kid) : undefined;
      if (!verify) return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
      claims = verify(match[1]);
    } catch {
      return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    }
    const now = clock();
    const { exp, nbf, iat } = claims;
    if (typeof exp !== 'number' || typeof iat !== 'number') return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    if (now >= exp * 1_000 + CLOCK_TOLERANCE_MS) return refuse(TOKEN_REFUSALS.TOKEN_EXPIRED);
    if (nbf !== undefined && (typeof nbf !== 'number' || now < nbf * 1_000 - CLOCK_TOLERANCE_MS))
      return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    if (iat * 1_000 > now + iatSkewMs) return refuse(TOKEN_REFUSALS.TOKEN_ISSUED_IN_FUTURE);
    if ((exp - iat) * 1_000 > maxLifetimeMs) return refuse(TOKEN_REFUSALS.TOKEN_LIFETIME_TOO_LONG);
    const principal = principalOf(claims);
    return principal ? { ok: true, principal } : refuse(TOKEN_REFUSALS.TOKEN_INVALID);
  };
}

const refuse = (refusal: TokenRefusal): TokenCheck => ({ ok: false, refusal });

const SUBJECT = /^[A-Za-z0-9._-]{1,64}$/;
const AGENCY = /^HN-[A-Z0-9]+(-[A-Z0-9]+)*$/;
const CITIZEN = /^\d{12}$/;

/** The principal a token's claims describe, or undefined when they do not fit its role. */
function principalOf(claims: Record<string, unknown>): LookupPrincipal | undefined {
  const { sub, role, agency } = claims;
  if (typeof sub !== 'string' || !SUBJECT.test(sub)) return undefined;
  switch (role) {
    case 'officer':
    case 'auditor':
      return typeof agency === 'string' && AGENCY.test(agency) ? { id: sub, role, agency } : undefined;
    case 'citizen':
      return CITIZEN.test(sub) && agency === undefined ? { id: sub, role, agency: null } : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads the token public keys: a JSON file `{ "keys": [{ "kid", "publicKey" }] }` with PEM keys.
 * A key whose `kid` is not its own fingerprint is refused, so a file cannot alias one key as another.
 *
 * @throws ConfigError naming the variable
 */
export function loadTokenKeys(path: string, variable: string): Map<string, KeyObject> {
  const fail = (message: string, cause?: unknown): never => {
    throw new ConfigError([{ variable, message: `${variable}: ${message}` }], { cause });
  };
  let parsed: { keys?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
  } catch (err) {
    return fail(`${path} cannot be read as JSON`, err);
  }
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) return fail(`${path} lists no keys`);
  const keys = new Map<string, KeyObject>();
  for (const entry of parsed.keys as { kid?: unknown; publicKey?: unknown }[]) {
    let key: KeyObject;
    try {
      key = createPublicKey(String(entry.publicKey));
    } catch (err) {
      return fail(`${path} holds a key that is not a PEM public key`, err);
    }
    if (key.asymmetricKeyType !== 'ed25519') return fail(`${path} holds a key that is not Ed25519`);
    if (entry.kid !== keyIdOf(key))
      return fail(`${path}: kid ${String(entry.kid)} is not its key's fingerprint`);
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

/** Signs a token, for the dev token command and the tests; the service itself only verifies. */
export function mintToken(
  privateKey: KeyObject,
  claims: { sub: string; role: LookupRole; agency?: string },
  options: { issuer: string; audience: string; ttlSeconds: number; now?: number },
): string {
  const sign = createSigner({
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm: 'EdDSA',
    kid: keyIdOf(createPublicKey(privateKey)),
    iss: options.issuer,
    aud: options.audience,
    expiresIn: options.ttlSeconds * 1_000,
    ...(options.now === undefined ? {} : { clockTimestamp: options.now }),
  });
  return sign({ ...claims });
}

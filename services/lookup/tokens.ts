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

/** The signature algorithms a trusted issuer may be allowed; symmetric ones never are. */
export const TOKEN_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** A verification key, with the algorithm its publisher bound it to, if any (a JWK's `alg`). */
export interface TokenKey {
  key: KeyObject;
  alg?: string;
}

/**
 * Where a trusted issuer's keys come from: a fixed file, or the issuer's JWKS. `key` answers from
 * what the source holds now; `refresh`, where the source can learn new keys, looks again and
 * resolves when it is done (a source limits how often it really looks, so that tokens naming
 * made-up key ids cannot make it hammer the issuer).
 */
export interface TokenKeySource {
  key(kid: string): TokenKey | undefined;
  refresh?(): Promise<void>;
}

/**
 * Where a token's role and agency are read, as dot paths into its claims (`realm_access.roles`),
 * and what the issuer's role names mean on the bus. A role claim may hold one name or a list; the
 * token maps only if exactly one bus role results.
 */
export interface ClaimMapping {
  role: string;
  /** The issuer's role names to bus roles; without it, each bus role is named as itself. */
  roles?: Readonly<Record<string, string>>;
  agency: string;
}

/** The bus's own claims: `role` and `agency`, by their names. */
export const BUS_CLAIMS: ClaimMapping = { role: 'role', agency: 'agency' };

/** An issuer whose tokens the service takes, and how to read them. */
export interface TokenIssuer {
  /** The exact `iss` its tokens carry. */
  issuer: string;
  /** The `aud` its tokens must name: this service. */
  audience: string;
  /** The algorithms accepted from it; a key is used only with an algorithm of its own type. */
  algorithms: readonly TokenAlgorithm[];
  keys: TokenKeySource;
  /** How its claims name a role and an agency; the bus's own claim names by default. */
  claims?: ClaimMapping;
}

export interface TokenVerifierOptions {
  /** The trusted issuers; a token is checked against the one its `iss` names, and no other. */
  issuers: readonly TokenIssuer[];
  /** What `exp`, `nbf` and `iat` are checked against; the system clock by default. */
  clock?: Clock;
  /** The longest `exp - iat` accepted, in milliseconds; 12 h by default. */
  maxLifetimeMs?: number;
  /** How far `iat` may lie ahead of `clock`, in milliseconds; 60 s by default. */
  iatSkewMs?: number;
}

/**
 * Checks an `Authorization` header. The answer is immediate when the token's key is at hand, and
 * a promise only while a key source looks for a key it did not know (an issuer's rotation).
 */
export type TokenVerifier = (authorization: string | undefined) => TokenCheck | Promise<TokenCheck>;

/** How far a token's `exp` and `nbf` may be off the bus's clock: the issuer's clock is not ours. */
const CLOCK_TOLERANCE_MS = 5_000;

/** Whether a key is of the type an algorithm needs: what stops a key being used with another algorithm. */
const KEY_FITS: Readonly<Record<TokenAlgorithm, (key: KeyObject) => boolean>> = {
  EdDSA: (key) => key.asymmetricKeyType === 'ed25519',
  ES256: (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  ES384: (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1',
  RS256: (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
  PS256: (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
};

/** The static key file's issuer: the bus's own Ed25519 keys, by fingerprint. */
export function fixedKeys(keys: ReadonlyMap<string, KeyObject>): TokenKeySource {
  const held = new Map([...keys].map(([kid, key]) => [kid, { key, alg: 'EdDSA' }]));
  return { key: (kid) => held.get(kid) };
}

/** The bus's own issuer (`npm run lookup:token`, the console's development sign-in): Ed25519 keys by fingerprint. */
export function busIssuer(options: {
  keys: ReadonlyMap<string, KeyObject>;
  issuer: string;
  audience: string;
}): TokenIssuer {
  return {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: ['EdDSA'],
    keys: fixedKeys(options.keys),
  };
}

/**
 * Verifies officers', auditors' and citizens' bearer tokens from a list of trusted issuers: the
 * bus's own dev issuer with its key file, and an OpenID Connect provider's access tokens by its
 * JWKS, through the same path. The token's `iss` picks the issuer, its `kid` the key within that
 * issuer's source, and its `alg` must be one the issuer is allowed and that fits the key's type,
 * so `none`, HMAC with a public key as secret, and keys of another issuer never verify. Issuer,
 * audience and expiry are enforced with 5 s of clock tolerance. Signatures are cached, so a busy
 * officer's token is verified once, not at every lookup; `exp` and `nbf` are checked at every
 * lookup against `clock`, since fast-jwt reads only a fixed `clockTimestamp`.
 *
 * `iat` is required and bounds the token: `exp - iat` may not exceed `maxLifetimeMs`, and `iat` may
 * not lie ahead of `clock` by more than `iatSkewMs`. Together they cap how long a leaked or
 * carelessly minted token stays usable at `maxLifetimeMs + iatSkewMs` from now.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725 (JWT best current practices: pin algorithms, check aud)
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.6 (`iat`, the time the token was issued)
 * @see https://www.rfc-editor.org/rfc/rfc9068 (JWT access tokens from an authorization server)
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const clock = options.clock ?? systemClock;
  const maxLifetimeMs = options.maxLifetimeMs ?? DEFAULT_TOKEN_MAX_LIFETIME_MS;
  const iatSkewMs = options.iatSkewMs ?? DEFAULT_TOKEN_IAT_SKEW_MS;
  const byIssuer = new Map(options.issuers.map((issuer) => [issuer.issuer, issuer]));
  const decode = createDecoder({ complete: true }) as (token: string) => {
    header: { kid?: unknown; alg?: unknown };
    payload: { iss?: unknown };
  };
  // One synchronous verifier per issuer, key and algorithm, made when first needed and dropped
  // when the source no longer holds that key.
  const verifiers = new Map<string, { key: KeyObject; verify: (token: string) => Record<string, unknown> }>();
  const verifierFor = (issuer: TokenIssuer, kid: string, alg: TokenAlgorithm, key: KeyObject) => {
    const id = `${issuer.issuer}\u0000${kid}\u0000${alg}`;
    const known = verifiers.get(id);
    if (known?.key === key) return known.verify;
    const verify = createVerifier({
      key: key.export({ type: 'spki', format: 'pem' }).toString(),
      algorithms: [alg],
      allowedIss: issuer.issuer,
      allowedAud: issuer.audience,
      requiredClaims: ['sub', 'exp', 'iat', 'iss', 'aud'],
      // Checked below against the injected clock, which fast-jwt cannot call.
      ignoreExpiration: true,
      ignoreNotBefore: true,
      cache: 10_000,
    }) as (token: string) => Record<string, unknown>;
    verifiers.set(id, { key, verify });
    return verify;
  };

  /** The claims once the signature is checked; `unknown-key` when the source may learn the key. */
  const checkSignature = (
    token: string,
    issuer: TokenIssuer,
    kid: string,
    alg: TokenAlgorithm,
  ): Record<string, unknown> | 'unknown-key' | undefined => {
    const found = issuer.keys.key(kid);
    if (!found) return 'unknown-key';
    if ((found.alg !== undefined && found.alg !== alg) || !KEY_FITS[alg](found.key)) return undefined;
    try {
      return verifierFor(issuer, kid, alg, found.key)(token);
    } catch {
      return undefined;
    }
  };

  const checkClaims = (claims: Record<string, unknown>, issuer: TokenIssuer): TokenCheck => {
    const now = clock();
    const { exp, nbf, iat } = claims;
    if (typeof exp !== 'number' || typeof iat !== 'number') return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    if (now >= exp * 1_000 + CLOCK_TOLERANCE_MS) return refuse(TOKEN_REFUSALS.TOKEN_EXPIRED);
    if (nbf !== undefined && (typeof nbf !== 'number' || now < nbf * 1_000 - CLOCK_TOLERANCE_MS))
      return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    if (iat * 1_000 > now + iatSkewMs) return refuse(TOKEN_REFUSALS.TOKEN_ISSUED_IN_FUTURE);
    if ((exp - iat) * 1_000 > maxLifetimeMs) return refuse(TOKEN_REFUSALS.TOKEN_LIFETIME_TOO_LONG);
    const principal = principalOf(claims, issuer.claims ?? BUS_CLAIMS);
    return principal ? { ok: true, principal } : refuse(TOKEN_REFUSALS.TOKEN_INVALID);
  };

  return (authorization) => {
    const token = authorizationCredentials(authorization, 'Bearer') ?? '';
    const match = /^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(token);
    if (!match?.[1])
      return refuse(authorization ? TOKEN_REFUSALS.TOKEN_INVALID : TOKEN_REFUSALS.TOKEN_MISSING);
    const jwt = match[1];
    let kid: unknown;
    let alg: unknown;
    let iss: unknown;
    try {
      ({
        header: { kid, alg },
        payload: { iss },
      } = decode(jwt));
    } catch {
      return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    }
    const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (!issuer || typeof kid !== 'string' || !issuer.algorithms.includes(alg as TokenAlgorithm))
      return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    const signed = checkSignature(jwt, issuer, kid, alg as TokenAlgorithm);
    if (signed !== 'unknown-key')
      return signed ? checkClaims(signed, issuer) : refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    const refresh = issuer.keys.refresh;
    if (!refresh) return refuse(TOKEN_REFUSALS.TOKEN_INVALID);
    // A key id the source does not hold yet: the issuer may have rotated. Look once, then decide.
    return refresh.call(issuer.keys).then(
      () => {
        const again = checkSignature(jwt, issuer, kid, alg as TokenAlgorithm);
        return again && again !== 'unknown-key'
          ? checkClaims(again, issuer)
          : refuse(TOKEN_REFUSALS.TOKEN_INVALID);
      },
      () => refuse(TOKEN_REFUSALS.TOKEN_INVALID),
    );
  };
}

const refuse = (refusal: TokenRefusal): TokenCheck => ({ ok: false, refusal });

const SUBJECT = /^[A-Za-z0-9._-]{1,64}$/;
const AGENCY = /^HN-[A-Z0-9]+(-[A-Z0-9]+)*$/;
const CITIZEN = /^\d{12}$/;

/** The value at a dot path of the claims (`realm_access.roles`), or undefined. */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part))
      return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The identity a token's or an ID token's claims describe under `mapping`: the subject, the one bus
 * role its role claim maps to, and the agency, if any. Undefined when the role claim names no bus
 * role or several, or when the agency claim is there but not a string. The console uses it to
 * refuse a sign-in the lookup service would refuse anyway.
 */
export function mappedIdentity(
  claims: Record<string, unknown>,
  mapping: ClaimMapping,
): { sub: string; role: string; agency?: string } | undefined {
  const { sub } = claims;
  const named = claimAt(claims, mapping.role);
  const names = Array.isArray(named) ? named : [named];
  const roles = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const role = mapping.roles
      ? Object.hasOwn(mapping.roles, name)
        ? mapping.roles[name]
        : undefined
      : name;
    if (role !== undefined) roles.add(role);
  }
  const agency = claimAt(claims, mapping.agency);
  if (typeof sub !== 'string' || roles.size !== 1) return undefined;
  if (agency !== undefined && typeof agency !== 'string') return undefined;
  const [role = ''] = roles;
  return { sub, role, ...(agency === undefined ? {} : { agency }) };
}

/** The principal a token's claims describe, or undefined when they do not fit its role. */
function principalOf(claims: Record<string, unknown>, mapping: ClaimMapping): LookupPrincipal | undefined {
  const identity = mappedIdentity(claims, mapping);
  if (!identity || !SUBJECT.test(identity.sub)) return undefined;
  const { sub, role, agency } = identity;
  switch (role) {
    case 'officer':
    case 'auditor':
      return agency !== undefined && AGENCY.test(agency) ? { id: sub, role, agency } : undefined;
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

import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../platform/clock';
import { type TokenKey, type TokenKeySource } from './tokens';

export interface JwksKeysOptions {
  /** The issuer, exactly as its tokens' `iss` and its discovery document name it. */
  issuer: string;
  /** Its JWKS; by default the `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string;
  clock?: Clock;
  /** The shortest time between two fetches, in milliseconds: 30 s unless given. */
  cooldownMs?: number;
  /** How long one fetch may take, in milliseconds: 5 s unless given. */
  timeoutMs?: number;
  logger?: Logger;
}

/** A JWKS larger than this is not a key set: 256 KiB holds hundreds of keys. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * Why an issuer URL may not be trusted, or undefined: keys and codes travel only over HTTPS, with
 * plain HTTP allowed on the loopback interface for a local issuer.
 */
export function issuerUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'http:' && loopback
    ? undefined
    : 'must be https (http only on the loopback interface)';
}

/**
 * An OpenID Connect issuer's signing keys, from its JWKS, as a token key source. Nothing is
 * fetched until `refresh` is called, first at the service's start and then whenever a token names
 * a key id the set does not hold (the issuer rotated). Fetches are one at a time and at most one
 * per cooldown, so tokens with made-up key ids cost the issuer nothing; a failed fetch keeps the
 * keys held before.
 *
 * Only signing keys with a key id are taken (`use` absent or `sig`); a key's `alg`, when given,
 * binds it to that algorithm. Symmetric and malformed keys are skipped.
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata (`jwks_uri`)
 * @see https://www.rfc-editor.org/rfc/rfc7517 (JSON Web Key)
 */
export function jwksKeys(options: JwksKeysOptions): TokenKeySource & { refresh(): Promise<void> } {
  const clock = options.clock ?? systemClock;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let keys = new Map<string, TokenKey>();
  let jwksUrl = options.jwksUrl;
  let lastFetch = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const getJson = async (url: string): Promise<Record<string, unknown>> => {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} answered more than a key set`);
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error(`${url} answered no JSON object`);
    return parsed as Record<string, unknown>;
  };

  const discover = async (): Promise<string> => {
    const base = options.issuer.replace(/\/$/, '');
    const metadata = await getJson(`${base}/.well-known/openid-configuration`);
    // Discovery §4.3: the document must name the issuer it was asked of, or it is not that issuer's.
    if (metadata.issuer !== options.issuer) throw new Error('The discovery document names another issuer');
    const uri = metadata.jwks_uri;
    if (typeof uri !== 'string' || issuerUrlProblem(uri))
      throw new Error('The discovery document has no usable jwks_uri');
    return uri;
  };

  const fetchKeys = async (): Promise<void> => {
    jwksUrl ??= await discover();
    const document = await getJson(jwksUrl);
    if (!Array.isArray(document.keys)) throw new Error(`${jwksUrl} holds no keys array`);
    const next = new Map<string, TokenKey>();
    for (const jwk of document.keys as (JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown })[]) {
      if (typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig') || jwk.d !== undefined)
        continue;
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        next.set(jwk.kid, { key, ...(typeof jwk.alg === 'string' ? { alg: jwk.alg } : {}) });
      } catch {
        continue;
      }
    }
    keys = next;
  };

  return {
    key: (kid) => keys.get(kid),
    refresh() {
      if (inFlight) return inFlight;
      if (clock() - lastFetch < cooldownMs) return Promise.resolve();
      lastFetch = clock();
      inFlight = fetchKeys()
        .catch((err: unknown) => {
          options.logger?.warn(
            { err, issuer: options.issuer },
            "The issuer's signing keys could not be read",
          );
        })
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
  };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { authorizationCredentials } from './authorization';
import { ConfigError } from './errors';

/**
 * Who may do what:
 * - `agency`: registers versions of, and configures, the subjects its agency owns; reads all;
 * - `reader`: reads (consumers such as the sharing service);
 * - `operator`: everything, including the global compatibility level and deletes of any subject.
 */
export const ROLES = ['agency', 'reader', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export const CredentialEntry = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }),
    role: Type.Union(ROLES.map((role) => Type.Literal(role))),
    agency: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Hex SHA-256 of the key. Keys are 256-bit random tokens, so a fast hash suffices. */
    keySha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);
export type CredentialEntry = Static<typeof CredentialEntry>;

const CredentialsFile = Type.Object(
  { clients: Type.Array(CredentialEntry) },
  { additionalProperties: false },
);

export interface Principal {
  clientId: string;
  role: Role;
  agency?: string;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Reads and checks a credentials file: `{ "clients": [{ id, role, agency?, keySha256 }] }`.
 * `variable` is the environment variable that named it, for the error message.
 */
export function loadCredentialsFile(path: string, variable: string): CredentialEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([{ variable, message: `cannot read ${path}` }], {
      cause: error,
    });
  }
  const validate = new Ajv({ allErrors: true }).compile(CredentialsFile);
  if (!validate(parsed)) {
    const where = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join(', ');
    throw new ConfigError([
      {
        variable,
        message: `${path} is not a valid credentials file: ${where}`,
      },
    ]);
  }
  const clients = (parsed as Static<typeof CredentialsFile>).clients;
  const agencyless = clients.filter((c) => c.role === 'agency' && !c.agency).map((c) => c.id);
  if (agencyless.length > 0) {
    throw new ConfigError([
      {
        variable,
        message: `agency clients need an agency: ${agencyless.join(', ')}`,
      },
    ]);
  }
  return clients;
}

/** The two ways a client presents its id and key. */
export interface PresentedCredential {
  /** HTTP Basic: user = client id, password = key; what Confluent's clients send. */
  authorization?: string | undefined;
  /** `X-API-Key: <client id>.<key>`: what agency systems send to a connector. */
  apiKey?: string | undefined;
  /**
   * The subject common name of a client certificate that the TLS layer already verified
   * against the configured CA: the certificate itself is the proof, and its CN the client id.
   */
  certificateClientId?: string | undefined;
}

/**
 * Checks a presented credential against the hashed keys. Returns the principal, or undefined
 * for a missing, malformed or wrong one: callers answer all three alike, so as not to tell
 * which ids exist.
 */
export function createAuthenticator(
  entries: readonly CredentialEntry[],
): (presented: PresentedCredential) => Principal | undefined {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const check = (id: string, key: string): Principal | undefined => {
    const entry = byId.get(id);
    if (!entry) return undefined;
    const given = Buffer.from(hashKey(key), 'hex');
    if (!timingSafeEqual(given, Buffer.from(entry.keySha256, 'hex'))) return undefined;
    return { clientId: entry.id, role: entry.role, ...(entry.agency ? { agency: entry.agency } : {}) };
  };
  return ({ authorization, apiKey, certificateClientId }) => {
    if (certificateClientId) {
      const entry = byId.get(certificateClientId);
      return (
        entry && { clientId: entry.id, role: entry.role, ...(entry.agency ? { agency: entry.agency } : {}) }
      );
    }
    // Client ids never hold a dot, so the first dot ends the id.
    const apiKeyMatch = /^([A-Za-z0-9_-]{1,100})\.([A-Za-z0-9_-]{1,200})$/.exec(apiKey ?? '');
    if (apiKeyMatch?.[1] && apiKeyMatch[2]) return check(apiKeyMatch[1], apiKeyMatch[2]);
    const basic = /^([A-Za-z0-9+/=]{1,1024})$/.exec(authorizationCredentials(authorization, 'Basic') ?? '');
    if (!basic?.[1]) return undefined;
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 1 ? undefined : check(decoded.slice(0, colon), decoded.slice(colon + 1));
  };
}

/** Fresh random keys for a development stack, with the file entries that accept them. */
export function generateCredentials(clients: readonly { id: string; role: Role; agency?: string }[]): {
  entries: CredentialEntry[];
  keys: Record<string, string>;
} {
  const keys: Record<string, string> = {};
  const entries = clients.map((client) => {
    const key = randomBytes(32).toString('base64url');
    keys[client.id] = key;
    return { ...client, keySha256: hashKey(key) };
  });
  return { entries, keys };
}

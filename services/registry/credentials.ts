import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { ConfigError } from '../platform/errors';

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
    id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
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

/** Reads and checks a credentials file: `{ "clients": [{ id, role, agency?, keySha256 }] }`. */
export function loadCredentialsFile(path: string): CredentialEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      [{ variable: 'SCHEMA_REGISTRY_CREDENTIALS_FILE', message: `cannot read ${path}` }],
      {
        cause: error,
      },
    );
  }
  const validate = new Ajv({ allErrors: true }).compile(CredentialsFile);
  if (!validate(parsed)) {
    const where = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join(', ');
    throw new ConfigError([
      {
        variable: 'SCHEMA_REGISTRY_CREDENTIALS_FILE',
        message: `${path} is not a valid credentials file: ${where}`,
      },
    ]);
  }
  const clients = (parsed as Static<typeof CredentialsFile>).clients;
  const agencyless = clients.filter((c) => c.role === 'agency' && !c.agency).map((c) => c.id);
  if (agencyless.length > 0) {
    throw new ConfigError([
      {
        variable: 'SCHEMA_REGISTRY_CREDENTIALS_FILE',
        message: `agency clients need an agency: ${agencyless.join(', ')}`,
      },
    ]);
  }
  return clients;
}

/**
 * Checks an HTTP Basic `Authorization` header (user = client id, password = key), the scheme
 * Confluent's clients send. Returns the principal, or undefined for anything else.
 */
export function createAuthenticator(
  entries: readonly CredentialEntry[],
): (header: string | undefined) => Principal | undefined {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  return (header) => {
    const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header ?? '');
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) return undefined;
    const entry = byId.get(decoded.slice(0, colon));
    if (!entry) return undefined;
    const given = Buffer.from(hashKey(decoded.slice(colon + 1)), 'hex');
    if (!timingSafeEqual(given, Buffer.from(entry.keySha256, 'hex'))) return undefined;
    return { clientId: entry.id, role: entry.role, ...(entry.agency ? { agency: entry.agency } : {}) };
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

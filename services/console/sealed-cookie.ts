import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Clock } from '../platform/clock';
import { ConfigError } from '../platform/errors';

/** AES-256 keys are 32 bytes. */
const KEY_BYTES = 32;
/** GCM's 96-bit nonce, fresh for every seal, and its full 128-bit tag. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Past this, a cookie is not opened at all: no browser keeps a larger one. */
const MAX_SEALED_CHARS = 8_192;

/**
 * Values a cookie carries sealed: encrypted and authenticated with AES-256-GCM, so that the
 * browser can neither read nor change them, and any instance holding the keys opens what another
 * sealed. Each value is sealed for a purpose (the cookie's name, as the cipher's additional data),
 * so a login's cookie is never taken for a session's, and with its expiry inside, checked against
 * the bus's clock: the cookie's Max-Age only tells the browser when to forget it.
 *
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM)
 */
export interface Sealer {
  /** `value` as base64url, openable until `expiresAt` (epoch milliseconds). */
  seal(purpose: string, value: unknown, expiresAt: number): string;
  /** The value, or undefined when the text is absent, changed, of another purpose or key, or expired. */
  open<T>(purpose: string, sealed: string | undefined): T | undefined;
}

/**
 * A sealer on `keys`: the first seals, any opens, so a key is rotated by putting a new one first
 * and dropping the old one once the cookies it sealed have expired.
 */
export function createSealer(options: { keys: readonly Buffer[]; clock: Clock }): Sealer {
  const { keys, clock } = options;
  const [sealing] = keys;
  if (!sealing || keys.some((k) => k.length !== KEY_BYTES))
    throw new Error(`A sealer needs one or more keys of ${KEY_BYTES} bytes`);
  return {
    seal(purpose, value, expiresAt) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealing, iv).setAAD(Buffer.from(purpose));
      const plain = Buffer.from(JSON.stringify({ e: expiresAt, v: value }));
      return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString(
        'base64url',
      );
    },
    open<T>(purpose: string, sealed: string | undefined): T | undefined {
      if (sealed === undefined || sealed.length > MAX_SEALED_CHARS || !/^[\w-]+$/.test(sealed))
        return undefined;
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
      const iv = bytes.subarray(0, IV_BYTES);
      const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      for (const key of keys) {
        let plain: Buffer;
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
            .setAAD(Buffer.from(purpose))
            .setAuthTag(tag);
          plain = Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          continue; // Not this key's, or changed: the tag does not match.
        }
        const { e, v } = JSON.parse(plain.toString('utf8')) as { e: number; v: T };
        return typeof e === 'number' && e > clock() ? v : undefined;
      }
      return undefined;
    },
  };
}

/**
 * The keys of `CONSOLE_SESSION_KEYS_FILE`: one a line, each 32 random bytes in base64 (as
 * `openssl rand -base64 32` prints them), the sealing key first; blank lines and `#` comments are
 * skipped. Read from a file, never from the environment, where other processes can read it.
 */
export function readSessionKeys(file: string, variable = 'CONSOLE_SESSION_KEYS_FILE'): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ variable, message: `${variable}: ${file} cannot be read` }], { cause: err });
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const keys = lines.map((l) => Buffer.from(l, /^[A-Za-z0-9+/]+={0,2}$/.test(l) ? 'base64' : 'base64url'));
  const bad = keys.findIndex((k, i) => k.length !== KEY_BYTES || !/^[\w+/=-]+$/.test(lines[i] as string));
  if (keys.length === 0 || bad >= 0)
    throw new ConfigError([
      {
        variable,
        message:
          keys.length === 0
            ? `${variable}: ${file} holds no key`
            : `${variable}: key ${bad + 1} of ${file} is not ${KEY_BYTES} bytes in base64`,
      },
    ]);
  return keys;
}

/** A new key file's text: one fresh key. */
export function newSessionKeysFile(): string {
  return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
}

/** Makes `file` with one fresh key unless it exists (`npm start`'s state); answers its path. */
export function ensureSessionKeysFile(file: string): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, newSessionKeysFile(), { mode: 0o600 });
  return file;
}

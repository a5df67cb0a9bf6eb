import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { keyIdOf } from './audit-chain';

/** Where the dev keys live, each a file in the directory given. */
export interface DevKeyFiles {
  /** Ed25519 private key (PKCS#8 PEM) that signs demo tokens. */
  tokenSigningKey: string;
  /** The matching public key, in the lookup service's `LOOKUP_JWT_KEYS_FILE` format. */
  tokenPublicKeys: string;
  /** Ed25519 private key (PKCS#8 PEM) that seals the audit chain's head. */
  auditSealKey: string;
}

/**
 * Makes the keys a development or demo run needs, once: they are kept in `dir` (the stack's
 * `.state/lookup`, mode 0600) and reused, so tokens minted earlier stay valid. Production keys
 * come from the agencies' identity provider and the operators' key store, never from here.
 */
export function ensureDevKeys(dir: string): DevKeyFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: DevKeyFiles = {
    tokenSigningKey: path.join(dir, 'token-signing-key.pem'),
    tokenPublicKeys: path.join(dir, 'token-public-keys.json'),
    auditSealKey: path.join(dir, 'audit-seal-key.pem'),
  };
  const signing = ensureKey(files.tokenSigningKey);
  ensureKey(files.auditSealKey);
  const publicKey = createPublicKey(signing);
  writeFileSync(
    files.tokenPublicKeys,
    `${JSON.stringify(
      { keys: [{ kid: keyIdOf(publicKey), publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }] },
      null,
      2,
    )}\n`,
  );
  return files;
}

/** Reads an Ed25519 private key from a PEM file. */
export function readPrivateKey(file: string): KeyObject {
  return createPrivateKey(readFileSync(file, 'utf8'));
}

function ensureKey(file: string): KeyObject {
  if (existsSync(file)) return readPrivateKey(file);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return privateKey;
}

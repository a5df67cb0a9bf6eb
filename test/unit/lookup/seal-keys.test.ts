import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { keyIdOf } from '../../../services/lookup/audit-chain';
import { auditSealKeys, lookupConfig } from '../../../services/lookup/config';
import { ConfigError } from '../../../services/platform/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'seal-keys-'));
const current = generateKeyPairSync('ed25519');
const earlier = generateKeyPairSync('ed25519');
const keyFile = path.join(dir, 'audit-seal-key.pem');
writeFileSync(keyFile, current.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const publicEntry = (key: KeyObject, kid = keyIdOf(key)) => ({
  kid,
  publicKey: key.export({ type: 'spki', format: 'pem' }),
});

describe('auditSealKeys: seal keys rotated by configuration', () => {
  it('seals with the configured key and trusts the earlier keys of the trusted keys file', () => {
    const trustedFile = path.join(dir, 'trusted.json');
    writeFileSync(trustedFile, JSON.stringify({ keys: [publicEntry(earlier.publicKey)] }));
    const config = lookupConfig({
      KAFKA_BROKERS: '127.0.0.1:9092',
      MONGODB_URI: 'mongodb://127.0.0.1:27017',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      SCHEMA_REGISTRY_CLIENT_ID: 'lookup',
      SCHEMA_REGISTRY_KEY: 'k',
      LOOKUP_JWT_KEYS_FILE: trustedFile,
      LOOKUP_AUDIT_SEAL_KEY_FILE: keyFile,
      LOOKUP_AUDIT_TRUSTED_KEYS_FILE: trustedFile,
    } as NodeJS.ProcessEnv);
    const keys = auditSealKeys(config);
    expect(keyIdOf(keys.sealKey.publicKey)).toBe(keyIdOf(current.publicKey));
    expect(keys.trustedSealKeys.map(keyIdOf)).toEqual([keyIdOf(earlier.publicKey)]);
  });

  it('trusts only the current key when no file is given', () => {
    expect(auditSealKeys({ LOOKUP_AUDIT_SEAL_KEY_FILE: keyFile }).trustedSealKeys).toEqual([]);
  });

  it('refuses a trusted key listed under another key id, naming the variable', () => {
    const aliased = path.join(dir, 'aliased.json');
    writeFileSync(
      aliased,
      JSON.stringify({ keys: [publicEntry(earlier.publicKey, keyIdOf(current.publicKey))] }),
    );
    let thrown: unknown;
    try {
      auditSealKeys({ LOOKUP_AUDIT_SEAL_KEY_FILE: keyFile, LOOKUP_AUDIT_TRUSTED_KEYS_FILE: aliased });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues.map((i) => i.variable)).toEqual(['LOOKUP_AUDIT_TRUSTED_KEYS_FILE']);
  });
});

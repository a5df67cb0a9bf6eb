import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSealer,
  ensureSessionKeysFile,
  readSessionKeys,
} from '../../../services/console/sealed-cookie';
import { ConfigError } from '../../../services/platform/errors';

const NOW = Date.parse('2026-03-01T22:30:00+07:00');
const key = () => randomBytes(32);

describe("the console's sealed cookies", () => {
  const [a, b] = [key(), key()];
  let now = NOW;
  const clock = () => now;
  beforeEach(() => {
    now = NOW;
  });

  it('opens what it sealed, for the same purpose, until it expires on the clock', () => {
    const sealer = createSealer({ keys: [a], clock });
    const sealed = sealer.seal('lienthong-session', { sub: 'cb-01' }, NOW + 60_000);
    expect(sealed).toMatch(/^[\w-]+$/);
    expect(sealed).not.toContain(Buffer.from('cb-01').toString('base64url'));
    expect(sealer.open('lienthong-session', sealed)).toEqual({ sub: 'cb-01' });
    // A login's cookie is never taken for a session's.
    expect(sealer.open('lienthong-login', sealed)).toBeUndefined();
    now = NOW + 59_999;
    expect(sealer.open('lienthong-session', sealed)).toEqual({ sub: 'cb-01' });
    now = NOW + 60_000;
    expect(sealer.open('lienthong-session', sealed)).toBeUndefined();
  });

  it('refuses a cookie changed anywhere, cut short, or not its own', () => {
    const sealer = createSealer({ keys: [a], clock });
    const sealed = sealer.seal('s', { role: 'officer' }, NOW + 60_000);
    const bytes = Buffer.from(sealed, 'base64url');
    for (const at of [0, 12, bytes.length - 17, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] = (changed[at] as number) ^ 1;
      expect(sealer.open('s', changed.toString('base64url'))).toBeUndefined();
    }
    expect(sealer.open('s', sealed.slice(0, -4))).toBeUndefined();
    expect(sealer.open('s', '')).toBeUndefined();
    expect(sealer.open('s', 'not base64url!')).toBeUndefined();
    expect(sealer.open('s', undefined)).toBeUndefined();
    expect(sealer.open('s', 'A'.repeat(10_000))).toBeUndefined();
    expect(createSealer({ keys: [b], clock }).open('s', sealed)).toBeUndefined();
  });

  it('seals with the first key and opens with any, so a key can be rotated', () => {
    const old = createSealer({ keys: [a], clock }).seal('s', 1, NOW + 60_000);
    const rotated = createSealer({ keys: [b, a], clock });
    expect(rotated.open('s', old)).toBe(1);
    const fresh = rotated.seal('s', 2, NOW + 60_000);
    expect(createSealer({ keys: [b], clock }).open('s', fresh)).toBe(2);
    expect(createSealer({ keys: [a], clock }).open('s', fresh)).toBeUndefined();
  });

  it('takes no key of another size', () => {
    expect(() => createSealer({ keys: [], clock })).toThrow();
    expect(() => createSealer({ keys: [randomBytes(16)], clock })).toThrow();
  });
});

describe('CONSOLE_SESSION_KEYS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lienthong-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads one key a line, the first first, skipping comments and blank lines', () => {
    const [a, b] = [key(), key()];
    const file = join(dir, 'two');
    writeFileSync(file, `# newest first\n${a.toString('base64')}\n\n${b.toString('base64url')}\n`);
    expect(readSessionKeys(file)).toEqual([a, b]);
  });

  it.each([
    ['no key', '# none yet\n', 'holds no key'],
    ['a short key', `${randomBytes(16).toString('base64')}\n`, 'key 1 of'],
    ['a key that is not base64', `${key().toString('base64')}\n${'ä'.repeat(43)}=\n`, 'key 2 of'],
  ])('refuses a file with %s, naming the variable', (_name, text, message) => {
    const file = join(dir, 'bad');
    writeFileSync(file, text);
    expect(() => readSessionKeys(file)).toThrow(ConfigError);
    expect(() => readSessionKeys(file)).toThrow(message);
    expect(() => readSessionKeys(join(dir, 'absent'))).toThrow('CONSOLE_SESSION_KEYS_FILE');
  });

  it('is made once for `npm start`, and kept', () => {
    const file = ensureSessionKeysFile(join(dir, 'state', 'console-session-keys'));
    const first = readFileSync(file, 'utf8');
    expect(readSessionKeys(file)).toHaveLength(1);
    ensureSessionKeysFile(file);
    expect(readFileSync(file, 'utf8')).toBe(first);
  });
});

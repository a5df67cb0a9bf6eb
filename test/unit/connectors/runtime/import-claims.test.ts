import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImportClaims } from '../../../../connectors/runtime/import-claims';

const ID = '0b5d9a62-3f7e-4c1a-9d2b-6e8f0a1b2c3d';

describe('import claims on a shared spool directory', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-claims-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('give an import to one of several instances racing for it', async () => {
    const instances = Array.from({ length: 8 }, () => createImportClaims({ spoolDir: dir }));
    const claims = await Promise.all(instances.map((i) => i.claim(ID)));
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    expect(instances.map((i) => i.claimable(ID))).toEqual(instances.map(() => false));
    // Only the lease is left: the temporary files of the losers are gone.
    expect(readdirSync(dir)).toEqual([`${ID}.lease.1`]);
  });

  it('let another instance take over an expired lease, and fence the old holder from then on', async () => {
    // A lease far shorter than a test step: it has run out by the next line.
    const first = createImportClaims({ spoolDir: dir, leaseMs: 1 });
    const second = createImportClaims({ spoolDir: dir, leaseMs: 60_000 });
    const old = await first.claim(ID);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const taken = await second.claim(ID);
    expect(taken?.generation).toBe(2);
    expect(old?.held()).toBe(false);
    expect(await old?.renew()).toBe(false);
    expect(taken?.held()).toBe(true);
    expect(await first.claim(ID)).toBeUndefined();
  });

  it('free an import at once when its holder releases it, and renew keeps it held', async () => {
    const first = createImportClaims({ spoolDir: dir });
    const second = createImportClaims({ spoolDir: dir });
    const claim = await first.claim(ID);
    expect(await claim?.renew()).toBe(true);
    expect(await second.claim(ID)).toBeUndefined();
    await claim?.release();
    expect(second.claimable(ID)).toBe(true);
    expect((await second.claim(ID))?.generation).toBe(2);
  });

  it('free the lease of a process of this host that is gone, before it expires', async () => {
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const alive = process.ppid;
    const instance = createImportClaims({ spoolDir: dir });
    const lease = (pid: string | number) =>
      JSON.stringify({ holder: `${hostname()}:${pid}:0a1b2c3d`, expiresAt: Date.now() + 60_000 });
    writeFileSync(join(dir, `${ID}.lease.1`), lease(alive));
    expect(instance.claimable(ID)).toBe(false);
    writeFileSync(join(dir, `${ID}.lease.1`), lease(gone));
    expect(instance.claimable(ID)).toBe(true);
    expect((await instance.claim(ID))?.generation).toBe(2);
  });
});

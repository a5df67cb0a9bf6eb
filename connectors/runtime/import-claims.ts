import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { link, open, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { syncDirectory, writeFileDurably } from '../../services/platform/durable-file';

/**
 * How long an import's lease lasts without a renewal: the time after which another instance takes
 * over the import of an instance that died. Renewed every third of it.
 */
export const IMPORT_LEASE_MS = 30_000;

/** What a lease file holds: who holds it, and until when (wall time, epoch milliseconds). */
interface Lease {
  holder: string;
  expiresAt: number;
}

/** One instance's hold on one import, from {@link ImportClaims.claim}. */
export interface ImportClaim {
  readonly generation: number;
  /** False once another instance has taken the import over: stop before the next write. */
  held(): boolean;
  /** Moves the expiry a lease further; false when the claim was lost meanwhile. */
  renew(): Promise<boolean>;
  /** Ends the lease at once (a clean stop), so that another instance, or the next start, resumes at once. */
  release(): Promise<void>;
}

/**
 * Which instance runs which import, when several connector instances of one agency share one
 * spool directory. An import is run by the holder of its newest lease file, `<id>.lease.<n>`:
 *
 * - a claim creates generation n + 1 by `link(2)` of a complete temporary file, which fails with
 *   `EEXIST` for all but one of instances racing for it: the one exclusive primitive POSIX file
 *   systems (NFS included) honour; `O_EXCL` on NFSv2 and a rename, which replaces, are not;
 * - it may do so only when generation n is missing, expired, released, or held by a process of this
 *   host that is gone (a `kill -9` followed by a restart resumes at once);
 * - the holder renews its lease every third of it, and checks before each chunk and each checkpoint
 *   that no newer generation exists. An instance that stalled past its lease thus stops at its next
 *   step; the chunk it had in flight may be sent again by the new holder, with the same eventIds.
 *
 * Leases are judged on wall time (`Date.now()`), not the bus clock: they measure elapsed time
 * between processes, which a pinned or shifted bus clock must not stretch. Instances on several
 * hosts therefore need clocks that agree within a fraction of the lease (NTP does).
 * Lease files stay until their import's spool file is removed, so that generations never restart.
 */
export function createImportClaims(options: { spoolDir: string; leaseMs?: number }) {
  const { spoolDir } = options;
  const leaseMs = options.leaseMs ?? IMPORT_LEASE_MS;
  const host = hostname();
  const holder = `${host}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const leasePrefix = (id: string) => `${id}.lease.`;
  const leaseFile = (id: string, generation: number) => join(spoolDir, `${leasePrefix(id)}${generation}`);

  /** The newest generation of an import's lease; 0 when it has none. */
  const newest = (id: string): number => {
    let top = 0;
    for (const name of readdirSync(spoolDir)) {
      if (!name.startsWith(leasePrefix(id))) continue;
      const generation = Number(name.slice(leasePrefix(id).length));
      if (Number.isInteger(generation) && generation > top) top = generation;
    }
    return top;
  };

  const read = (id: string, generation: number): Lease | undefined => {
    try {
      const lease = JSON.parse(readFileSync(leaseFile(id, generation), 'utf8')) as Partial<Lease>;
      if (typeof lease.holder !== 'string' || typeof lease.expiresAt !== 'number') return undefined;
      return { holder: lease.holder, expiresAt: lease.expiresAt };
    } catch {
      // Written whole by link or rename, so unreadable means removed by hand: nobody holds it.
      return undefined;
    }
  };

  /** Whether a lease still stands: unexpired, and not held by a process of this host that is gone. */
  const standing = (lease: Lease | undefined): boolean => {
    if (lease === undefined || lease.expiresAt <= Date.now()) return false;
    const [leaseHost, pid] = lease.holder.split(':');
    if (leaseHost !== host || lease.holder === holder) return true;
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch (error) {
      // EPERM: the process exists under another user.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };

  const content = (expiresAt: number): string => JSON.stringify({ holder, expiresAt } satisfies Lease);

  /** Creates `path` with `text` only if it does not exist, complete from its first moment. */
  const createExclusive = async (path: string, text: string): Promise<boolean> => {
    const temp = join(spoolDir, `.lease-${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
      await syncDirectory(spoolDir);
    }
  };

  return {
    holder,

    /** Whether an instance may claim the import now: nobody's lease on it stands. */
    claimable(id: string): boolean {
      const top = newest(id);
      return top === 0 || !standing(read(id, top));
    },

    /** Claims an import, or answers undefined when another instance holds it or won the race. */
    async claim(id: string): Promise<ImportClaim | undefined> {
      const top = newest(id);
      if (top > 0 && standing(read(id, top))) return undefined;
      const generation = top + 1;
      const path = leaseFile(id, generation);
      if (!(await createExclusive(path, content(Date.now() + leaseMs)))) return undefined;
      const held = () => !existsSync(leaseFile(id, generation + 1));
      return {
        generation,
        held,
        async renew() {
          if (!held()) return false;
          await writeFileDurably(path, content(Date.now() + leaseMs));
          return held();
        },
        async release() {
          if (held()) await writeFileDurably(path, content(0));
        },
      };
    },

    /** Removes an import's lease files, once its spool file is gone and nothing can run it again. */
    async remove(id: string): Promise<void> {
      for (let generation = newest(id); generation > 0; generation -= 1) {
        await rm(leaseFile(id, generation), { force: true });
      }
    },

    /** How often the holder renews: a third of the lease, so that one late renewal does not lose it. */
    renewEveryMs: Math.max(1, Math.floor(leaseMs / 3)),
    /** How often unclaimed or abandoned imports are looked for: half the lease. */
    scanEveryMs: Math.max(1, Math.floor(leaseMs / 2)),
  };
}

export type ImportClaims = ReturnType<typeof createImportClaims>;

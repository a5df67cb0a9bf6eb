import { open, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { type DurableFs, isDurableTemp } from '../../services/platform/durable-file';

/**
 * The real file system, with every call that matters for durability recorded by the base name of
 * its file (the directory as `dir`), and faults injected where a test asks.
 */
export function recordingFs(dir: string, fail: { rename?: boolean } = {}) {
  const calls: string[] = [];
  const name = (path: string) =>
    path === dir ? 'dir' : isDurableTemp(basename(path)) ? 'temp' : basename(path);
  const fs: DurableFs = {
    async open(path, flags) {
      const handle = await open(path, flags);
      calls.push(`open ${name(path)}`);
      return {
        writeFile: async (data) => {
          calls.push(`write ${name(path)}`);
          await handle.writeFile(data);
        },
        write: (async (data: Uint8Array) => {
          calls.push(`write ${name(path)}`);
          return handle.write(data);
        }) as never,
        sync: async () => {
          calls.push(`fsync ${name(path)}`);
          await handle.sync();
        },
        close: () => handle.close(),
      };
    },
    async rename(from, to) {
      if (fail.rename) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      calls.push(`rename ${name(from)} ${name(to)}`);
      await rename(from, to);
    },
    async rm(path, options) {
      calls.push(`rm ${name(path)}`);
      await rm(path, options);
    },
  };
  return { fs, calls };
}

/** The calls {@link recordingFs} records for one durable write of `name` in `writes` writes. */
export function durableWriteCalls(name: string, writes = 1): string[] {
  return [
    'open temp',
    ...Array.from({ length: writes }, () => 'write temp'),
    'fsync temp',
    `rename temp ${name}`,
    'open dir',
    'fsync dir',
  ];
}

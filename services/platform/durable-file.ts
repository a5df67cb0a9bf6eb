import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable } from 'node:stream';

/** The file system calls a durable write makes: node's own, or a test's that records or fails them. */
export interface DurableFs {
  open(path: string, flags: string): Promise<Pick<FileHandle, 'writeFile' | 'write' | 'sync' | 'close'>>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
}

export const nodeDurableFs: DurableFs = { open, rename, rm };

/** The suffix of the temporary files a durable write leaves behind if the process dies mid-write. */
export const DURABLE_TEMP_SUFFIX = '.tmp';

/**
 * Writes `path` so that, after a crash or a power loss, it holds either its previous content or
 * all of `data`, never a part: the data goes to a temporary file beside it, which is fsynced,
 * renamed over `path`, and then the directory is fsynced so that the rename itself is on disk.
 * `data` may be a stream, which is written as it comes. On failure the temporary file is removed
 * and `path` is untouched; a process killed mid-write leaves a `*.tmp` file that
 * {@link isDurableTemp} recognizes.
 *
 * @returns the number of bytes written
 *
 * @see https://man7.org/linux/man-pages/man2/fsync.2.html ("an explicit fsync() on a file descriptor for the directory is also needed")
 * @see https://www.sqlite.org/atomiccommit.html (the same steps, for a database's journal)
 */
export async function writeFileDurably(
  path: string,
  data: string | Uint8Array | Readable,
  fs: DurableFs = nodeDurableFs,
): Promise<number> {
  let bytes = 0;
  const temp = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(4).toString('hex')}${DURABLE_TEMP_SUFFIX}`,
  );
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
        bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      } else {
        // Chunk by chunk, each written before the next is read: the stream's own backpressure.
        for await (const chunk of data as AsyncIterable<Buffer>) {
          await handle.write(chunk);
          bytes += chunk.length;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path), fs);
  return bytes;
}

/**
 * Removes `path`, if it exists, and fsyncs its directory, so that the removal survives a crash
 * that follows: a caller may then record it as done.
 */
export async function removeFileDurably(path: string, fs: DurableFs = nodeDurableFs): Promise<void> {
  await fs.rm(path, { force: true });
  await syncDirectory(dirname(path), fs);
}

/** Makes the entries of `dir` (files created, renamed or removed in it) durable. */
export async function syncDirectory(dir: string, fs: DurableFs = nodeDurableFs): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether a file name is one of {@link writeFileDurably}'s temporary files. */
export function isDurableTemp(name: string): boolean {
  return name.startsWith('.') && name.endsWith(DURABLE_TEMP_SUFFIX);
}

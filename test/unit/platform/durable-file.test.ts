import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isDurableTemp, removeFileDurably, writeFileDurably } from '../../../services/platform/durable-file';
import { durableWriteCalls, recordingFs } from '../../support/recording-fs';

describe('a durable write', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lienthong-durable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fsyncs a temporary file, renames it over the target, then fsyncs the directory', async () => {
    const { fs, calls } = recordingFs(dir);
    const target = join(dir, 'status.json');
    expect(await writeFileDurably(target, '{"rowsDone":500}', fs)).toBe(16);
    expect(calls).toEqual(durableWriteCalls('status.json'));
    expect(readFileSync(target, 'utf8')).toBe('{"rowsDone":500}');
    expect(readdirSync(dir)).toEqual(['status.json']);
  });

  it('writes a stream chunk by chunk, and fsyncs before the rename', async () => {
    const { fs, calls } = recordingFs(dir);
    const target = join(dir, 'upload.data');
    const chunks = ['{"a":1}\n', '{"a":2}\n', '{"a":3}\n'].map((c) => Buffer.from(c));
    expect(await writeFileDurably(target, Readable.from(chunks), fs)).toBe(24);
    expect(calls).toEqual(durableWriteCalls('upload.data', 3));
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
  });

  it('leaves the previous content and no temporary file when the rename fails', async () => {
    const target = join(dir, 'status.json');
    writeFileSync(target, 'before');
    const { fs } = recordingFs(dir, { rename: true });
    await expect(writeFileDurably(target, 'after', fs)).rejects.toThrow('EIO');
    expect(readFileSync(target, 'utf8')).toBe('before');
    expect(readdirSync(dir)).toEqual(['status.json']);
  });

  it('leaves the previous content and no temporary file when the stream fails midway', async () => {
    const target = join(dir, 'upload.data');
    writeFileSync(target, 'before');
    const broken = Readable.from(
      (async function* () {
        yield Buffer.from('part of it');
        throw new Error('the client went away');
      })(),
    );
    await expect(writeFileDurably(target, broken)).rejects.toThrow('the client went away');
    expect(readFileSync(target, 'utf8')).toBe('before');
    expect(readdirSync(dir)).toEqual(['upload.data']);
  });

  it('fsyncs the directory after a removal, and removes nothing twice', async () => {
    const target = join(dir, 'upload.data');
    writeFileSync(target, 'rows');
    const { fs, calls } = recordingFs(dir);
    await removeFileDurably(target, fs);
    await removeFileDurably(target, fs);
    expect(existsSync(target)).toBe(false);
    expect(calls).toEqual([
      'rm upload.data',
      'open dir',
      'fsync dir',
      'rm upload.data',
      'open dir',
      'fsync dir',
    ]);
  });

  it('names its temporary files so that a start can tell them from the real ones', () => {
    expect(isDurableTemp('.1f0c.json.8a9b0c1d.tmp')).toBe(true);
    expect(isDurableTemp('1f0c.json')).toBe(false);
    expect(isDurableTemp('1f0c.data')).toBe(false);
  });
});

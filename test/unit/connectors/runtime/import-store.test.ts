import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  createImportStore,
  type ImportStatus,
  ORPHAN_TEMP_AGE_MS,
} from '../../../../connectors/runtime/import-store';
import { createLogger } from '../../../../services/platform/logger';
import { durableWriteCalls, recordingFs } from '../../../support/recording-fs';

const ID = '0b5d9a62-3f7e-4c1a-9d2b-6e8f0a1b2c3d';
const OTHER = '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const T0 = Date.parse('2026-06-14T17:30:00.000Z');
const DAY = 86_400_000;

function status(id: string, overrides: Partial<ImportStatus> = {}): ImportStatus {
  return {
    id,
    format: 'ndjson',
    state: 'queued',
    receivedBytes: 10,
    rows: 2,
    rowsDone: 0,
    accepted: 0,
    rejected: 0,
    rejections: [],
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

describe('the import store', () => {
  let dir: string;
  let now: number;
  let recorded: ReturnType<typeof recordingFs>;
  let store: ReturnType<typeof createImportStore>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lienthong-import-store-'));
    now = T0;
    recorded = recordingFs(dir);
    store = createImportStore({
      spoolDir: dir,
      clock: () => now,
      logger: createLogger({ name: 'unit', level: 'silent' }),
      fs: recorded.fs,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each checkpoint durably: fsync, rename, fsync of the directory', async () => {
    await store.save(status(ID, { state: 'running', rowsDone: 500 }));
    expect(recorded.calls).toEqual(durableWriteCalls(`${ID}.json`));
    expect(store.read(ID)).toMatchObject({ state: 'running', rowsDone: 500 });
  });

  it('spools an upload durably, and answers its size', async () => {
    expect(await store.spool(ID, Readable.from([Buffer.from('{"a":1}\n')]))).toBe(8);
    expect(recorded.calls).toEqual(durableWriteCalls(`${ID}.data`));
    expect(readFileSync(store.dataFile(ID), 'utf8')).toBe('{"a":1}\n');
  });

  it('answers a status it cannot read as failed with IMPORT_STATUS_CORRUPT, and an unknown id as none', async () => {
    await store.save(status(ID));
    const file = join(dir, `${ID}.json`);
    const whole = readFileSync(file, 'utf8');
    const cases = [whole.slice(0, 30), '', '{"id":"x"}', whole.replace(ID, OTHER), '[]'];
    for (const content of cases) {
      writeFileSync(file, content);
      expect(store.read(ID)).toMatchObject({ id: ID, state: 'failed', failureCode: 'IMPORT_STATUS_CORRUPT' });
      // Reading marks nothing: the file is as it was.
      expect(readFileSync(file, 'utf8')).toBe(content);
    }
    expect(store.read(OTHER)).toBeUndefined();
    expect(store.read('../../etc/passwd')).toBeUndefined();
  });

  it('at start removes interrupted writes, marks corrupt statuses failed and keeps their bytes', async () => {
    await store.save(status(ID, { state: 'running', rowsDone: 500 }));
    writeFileSync(join(dir, `${OTHER}.data`), '{"a":1}\n');
    writeFileSync(join(dir, `${OTHER}.json`), '{"id":"7c1e');
    const orphan = join(dir, `.${ID}.json.0a1b2c3d.tmp`);
    writeFileSync(orphan, '{"id":');
    // Nobody has written it for the orphan age: a crashed write's, not another instance's upload.
    const old = (Date.now() - ORPHAN_TEMP_AGE_MS - 1_000) / 1_000;
    utimesSync(orphan, old, old);
    // Written a moment ago: perhaps another instance's upload in progress, so it stays.
    const fresh = `.${OTHER}.data.4e5f6a7b.tmp`;
    writeFileSync(join(dir, fresh), '{"a":');

    const statuses = await store.recover();
    expect(statuses.map((s) => [s.id, s.state, s.failureCode]).sort()).toEqual(
      [
        [ID, 'running', undefined],
        [OTHER, 'failed', 'IMPORT_STATUS_CORRUPT'],
      ].sort(),
    );
    expect(readdirSync(dir).sort()).toEqual(
      [`${ID}.json`, `${OTHER}.data`, `${OTHER}.json`, `${OTHER}.json.corrupt`, fresh].sort(),
    );
    expect(readFileSync(join(dir, `${OTHER}.json.corrupt`), 'utf8')).toBe('{"id":"7c1e');
    // The failed status is now a valid file of its own, dated by the clock.
    expect(store.read(OTHER)).toMatchObject({
      state: 'failed',
      failureCode: 'IMPORT_STATUS_CORRUPT',
      receivedBytes: 8,
      finishedAt: new Date(T0).toISOString(),
    });
  });

  it('removes the spool file of an ended import once its retention is over by the clock, and only then', async () => {
    const finishedAt = new Date(T0).toISOString();
    for (const [id, state] of [
      [ID, 'completed'],
      [OTHER, 'running'],
    ] as const) {
      writeFileSync(store.dataFile(id), '{"a":1}\n');
      await store.save(status(id, { state, ...(state === 'completed' ? { finishedAt } : {}) }));
    }
    now = T0 + DAY - 1;
    expect(await store.sweep(DAY)).toBe(0);
    expect(existsSync(store.dataFile(ID))).toBe(true);

    now = T0 + DAY;
    recorded.calls.length = 0;
    const after = async (id: string) => {
      recorded.calls.push(`after ${id}`);
    };
    expect(await store.sweep(DAY, after)).toBe(1);
    expect(existsSync(store.dataFile(ID))).toBe(false);
    // Removed, made durable, handed on (the caller removes its lease files), and only then recorded.
    expect(recorded.calls.slice(0, 5)).toEqual([
      `rm ${ID}.data`,
      'open dir',
      'fsync dir',
      `after ${ID}`,
      'open temp',
    ]);
    expect(store.read(ID)).toMatchObject({ state: 'completed', spoolRemovedAt: new Date(now).toISOString() });

    // A running import keeps its file however old; a removed one is not removed again.
    now = T0 + 100 * DAY;
    expect(await store.sweep(DAY)).toBe(0);
    expect(existsSync(store.dataFile(OTHER))).toBe(true);
  });
});

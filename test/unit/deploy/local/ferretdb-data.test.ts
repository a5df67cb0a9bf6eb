import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyDatabaseFiles } from '../../../../deploy/local/local-ferretdb';

/**
 * `empty.sqlite` is the file a clean-clone CI run left when its store was stopped while FerretDB
 * created a test's database: the SQLite header and an empty schema page. FerretDB 1.24 would not
 * start beside it.
 */
const EMPTY = join(__dirname, '../../../fixtures/sqlite/empty.sqlite');

describe('emptyDatabaseFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferretdb-data-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names a database file that holds no table, and nothing else', () => {
    copyFileSync(EMPTY, join(dir, 'it_sharing_1.sqlite'));
    // The same file with one schema entry: page 1's cell count (bytes 103-104) is 1.
    const withTable = readFileSync(EMPTY);
    withTable.writeUInt16BE(1, 103);
    writeFileSync(join(dir, 'lienthong.sqlite'), withTable);
    writeFileSync(join(dir, 'notes.txt'), 'not a database');
    writeFileSync(join(dir, 'short.sqlite'), 'SQLite');
    expect(emptyDatabaseFiles(dir)).toEqual([join(dir, 'it_sharing_1.sqlite')]);
  });

  it('keeps an empty-looking file whose write-ahead log holds pages', () => {
    copyFileSync(EMPTY, join(dir, 'fresh.sqlite'));
    writeFileSync(join(dir, 'fresh.sqlite-wal'), Buffer.alloc(32, 1));
    expect(emptyDatabaseFiles(dir)).toEqual([]);
    writeFileSync(join(dir, 'fresh.sqlite-wal'), '');
    expect(emptyDatabaseFiles(dir)).toEqual([join(dir, 'fresh.sqlite')]);
  });
});

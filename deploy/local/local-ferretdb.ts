import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { ManagedProcess } from './managed-process';
import { cacheRoot, ensureArtifact, type Progress, recipeDigest, runWithProgress } from './provision';
import { waitUntilReady } from './readiness';
import { requireTool } from './tools';

/** The FerretDB release the launcher embeds; deploy/local/ferretdb/go.mod pins the same. */
export const FERRETDB_VERSION = '1.24.0';

const LAUNCHER_DIR = resolve(__dirname, 'ferretdb');
const LAUNCHER_FILES = ['main.go', 'go.mod', 'go.sum'].map((file) => join(LAUNCHER_DIR, file));

export interface LocalFerretDbOptions {
  /** Holds this store's SQLite files, log and pid file. */
  stateDir: string;
  port: number;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/**
 * FerretDB with its SQLite backend on 127.0.0.1: a MongoDB-wire store that needs no
 * database server. The binary is a small launcher around FerretDB's embeddable package,
 * built with Go from the Go module proxy into the shared cache.
 */
export class LocalFerretDb {
  readonly name = 'store';
  readonly uri: string;
  private readonly process: ManagedProcess;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: LocalFerretDbOptions) {
    this.uri = `mongodb://127.0.0.1:${options.port}/`;
    this.env = options.env ?? process.env;
    this.process = new ManagedProcess('store', join(options.stateDir, 'ferretdb.pid'), options.stateDir);
  }

  /** The launcher binary, built once per FerretDB version and launcher source. */
  async provision(): Promise<string> {
    const dir = join(cacheRoot(this.env), `ferretdb-${FERRETDB_VERSION}-${recipeDigest(LAUNCHER_FILES)}`);
    const binary = join(dir, 'lienthong-ferretdb');
    if (existsSync(binary)) return binary;
    requireTool('go', this.env);
    const { progress } = this.options;
    progress(`store: building FerretDB ${FERRETDB_VERSION} with Go (first run only, a few minutes)`);
    let compiled = 0;
    await ensureArtifact(dir, (scratch) =>
      runWithProgress('go', ['build', '-v', '-trimpath', '-o', join(scratch, 'lienthong-ferretdb'), '.'], {
        cwd: LAUNCHER_DIR,
        // The pinned go.sum is the source of truth, and the local toolchain builds it as it is.
        env: { ...this.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly', GOTOOLCHAIN: 'local' },
        label: 'store: go build',
        progress,
        onLine: (line) => {
          if (line.startsWith('go: downloading ')) return `store: ${line.slice(4)}`;
          if (line.startsWith('go: ') || line.includes(' ')) return undefined;
          // `go build -v` names each package as it compiles it.
          compiled += 1;
          return compiled % 50 === 0 ? `store: ${compiled} packages compiled` : undefined;
        },
      }),
    );
    progress(`store: FerretDB cached in ${dir}`);
    return binary;
  }

  pid(): number | undefined {
    return this.process.pid();
  }

  async start(): Promise<'started' | 'already running'> {
    if (this.pid() !== undefined) return 'already running';
    const binary = await this.provision();
    const dataDir = join(this.options.stateDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    for (const file of emptyDatabaseFiles(dataDir)) {
      for (const path of [file, `${file}-wal`, `${file}-shm`]) rmSync(path, { force: true });
      this.options.progress(`store: removed ${file}, a database FerretDB was stopped while creating`);
    }
    this.process.start(
      binary,
      ['--listen-addr', `127.0.0.1:${this.options.port}`, '--data-dir', dataDir, '--log-level', 'warn'],
      join(this.options.stateDir, 'ferretdb.log'),
      this.env,
    );
    return 'started';
  }

  /** Ready when the store answers `ping`. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitUntilReady(
      `FerretDB at ${this.uri}`,
      async () => {
        const client = new MongoClient(this.uri, {
          serverSelectionTimeoutMS: 1_000,
          connectTimeoutMS: 1_000,
        });
        try {
          await client.db('admin').command({ ping: 1 });
        } finally {
          await client.close();
        }
      },
      { timeoutMs, isAlive: () => this.pid() !== undefined },
    );
  }

  stop(): Promise<boolean> {
    return this.process.stop(15_000);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }
}

/** SQLite's page 1 b-tree header starts after the 100-byte file header; 0x0d is a table leaf. */
const SQLITE_MAGIC = 'SQLite format 3\0';
const TABLE_LEAF = 0x0d;

/**
 * The SQLite files of a FerretDB data directory that hold no table at all: a database FerretDB
 * began to create and was stopped (at the end of a test run, say) before it wrote its metadata
 * table. FerretDB 1.24 then refuses to start ("no such table: _ferretdb_collections"); such a file
 * holds nothing. A file whose write-ahead log is not empty may hold tables there, and is kept.
 *
 * @see https://www.sqlite.org/fileformat2.html#the_database_header
 */
export function emptyDatabaseFiles(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((name) => name.endsWith('.sqlite'))
    .map((name) => join(dataDir, name))
    .filter((path) => {
      const wal = `${path}-wal`;
      if (existsSync(wal) && statSync(wal).size > 0) return false;
      const header = Buffer.alloc(108);
      const fd = openSync(path, 'r');
      try {
        if (readSync(fd, header, 0, header.length, 0) < header.length) return false;
      } finally {
        closeSync(fd);
      }
      const isSqlite = header.toString('latin1', 0, 16) === SQLITE_MAGIC;
      // Page 1 is the schema table: a leaf with no cell lists no table, index or view.
      return isSqlite && header[100] === TABLE_LEAF && header.readUInt16BE(103) === 0;
    });
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOPICS } from '../../schemas/topics';
import { generateCredentials } from '../../services/platform/credentials';
import { ManagedProcess } from './managed-process';
import { type Progress } from './provision';
import { waitUntilReady } from './readiness';
import { entryArgs, prepareRun, type RunMode } from './service-entry';

const MAIN = 'services/registry/main.ts';
/**
 * What tells our registry from a reused pid, in its command line whether it runs compiled or from
 * the sources; a registry started before the marker was this still counts (its full source path).
 */
const MARKER = 'services/registry/main.';
const LEGACY_MARKER = join(resolve(__dirname, '..', '..'), MAIN);

export interface LocalRegistryOptions {
  stateDir: string;
  port: number;
  /** `KAFKA_BROKERS` and the registry principal's security variables. */
  kafkaEnv: Record<string, string>;
  /** Compiled (the build, checked current first) or from the sources: see service-entry.ts. */
  run: RunMode;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/** Client ids and keys of a development stack, one per agency plus a reader and an operator. */
export type RegistryKeys = Record<string, string>;

/**
 * lienthong's own schema registry (`services/registry`) as a process of the local stack.
 * On first start it makes development credentials: the key hashes the registry checks, and
 * the keys themselves in `keys.json` (mode 0600) for scripts and tests on this machine.
 */
export class LocalRegistry {
  readonly name = 'registry';
  readonly url: string;
  readonly keysFile: string;
  private readonly credentialsFile: string;
  private readonly process: ManagedProcess;

  constructor(private readonly options: LocalRegistryOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    this.keysFile = join(options.stateDir, 'keys.json');
    this.credentialsFile = join(options.stateDir, 'credentials.json');
    // The pid file is per state directory; the entry point's path tells our process from a reused pid.
    this.process = new ManagedProcess('registry', join(options.stateDir, 'registry.pid'), MARKER, [
      LEGACY_MARKER,
    ]);
  }

  pid(): number | undefined {
    return this.process.pid();
  }

  async start(): Promise<'started' | 'already running'> {
    if (this.pid() !== undefined) return 'already running';
    this.ensureCredentials();
    prepareRun(this.options.run, this.options.progress);
    this.process.start(
      process.execPath,
      entryArgs(MAIN, this.options.run),
      join(this.options.stateDir, 'registry.log'),
      {
        ...(this.options.env ?? process.env),
        ...this.options.kafkaEnv,
        HOST: '127.0.0.1',
        PORT: String(this.options.port),
        SCHEMA_REGISTRY_CREDENTIALS_FILE: this.credentialsFile,
      },
    );
    return 'started';
  }

  /** Ready when `/readyz` says the registry has read its log to the end. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntilReady(
      `the schema registry at ${this.url}`,
      async () => {
        const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (!response.ok) throw new Error(`/readyz answered ${response.status}`);
      },
      { timeoutMs, isAlive: () => this.pid() !== undefined },
    );
  }

  stop(): Promise<boolean> {
    return this.process.stop(15_000);
  }

  /** SIGKILL, as a crash would. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  keys(): RegistryKeys {
    return JSON.parse(readFileSync(this.keysFile, 'utf8')) as RegistryKeys;
  }

  private ensureCredentials(): void {
    if (existsSync(this.credentialsFile) && existsSync(this.keysFile)) return;
    mkdirSync(this.options.stateDir, { recursive: true });
    const { entries, keys } = generateCredentials([
      ...Object.values(TOPICS).map((topic) => ({
        id: topic.owner,
        role: 'agency' as const,
        agency: topic.owner,
      })),
      { id: 'lienthong-reader', role: 'reader' },
      { id: 'lienthong-operator', role: 'operator' },
    ]);
    writeFileSync(this.keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
    writeFileSync(this.credentialsFile, JSON.stringify({ clients: entries }, null, 2));
    this.options.progress(`registry: development credentials written to ${this.keysFile}`);
  }
}

import { LocalKafka } from '../../deploy/local/local-kafka';
import { LocalFerretDb } from '../../deploy/local/local-ferretdb';
import { busPrincipals } from '../../deploy/local/topics';
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A name no other test file or run uses: `prefix-<8 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The endpoint global setup exported; a clear failure when the suite was started without it. */
export function endpoint(name: 'KAFKA_BROKERS' | 'MONGODB_URI' | 'SCHEMA_REGISTRY_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests through jest's global setup`);
  return value;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

/**
 * Waits until the service at `url` answers `/readyz` with 2xx, polling every 100 ms for a minute;
 * fails at once when `exited` says its process is gone.
 */
export async function waitUntilReady(
  url: string,
  what: string,
  exited: () => boolean = () => false,
): Promise<void> {
  for (let i = 0; ; i += 1) {
    if (exited()) throw new Error(`${what} exited before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`${what} did not become ready`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * Polls `check` every `pollMs` until it holds, and rejects after `timeoutMs`. With `tolerant`, an
 * error thrown by `check` (a broker away in a fault test) counts as not yet; otherwise it rejects.
 */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  { pollMs = 200, tolerant = false }: { pollMs?: number; tolerant?: boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await (tolerant ? check().catch(() => false) : check())) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Sends `signal` unless the child has exited, and waits for its exit. */
export async function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  // A paused process handles SIGTERM only once it runs again.
  child.kill('SIGCONT');
  await exit;
}

/**
 * Stops a child as a test leaves it: SIGTERM, its clean stop, then SIGKILL if it has not exited
 * within `graceMs`; resolves once it has exited. Before dropping a database a child wrote to: the
 * store goes on with a killed client's last command, and a database dropped under a write crashed
 * FerretDB (SIGBUS in SQLite's WAL index, `test:long` on 2026-12-03).
 */
export async function stopped(child: ChildProcess, graceMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((done) => {
    timer = setTimeout(() => done('late'), graceMs);
  });
  const outcome = await Promise.race([ended(child, 'SIGTERM'), late]);
  clearTimeout(timer);
  if (outcome === 'late') await ended(child, 'SIGKILL');
}

/** A scratch directory that is removed by the returned function. */
export function scratchDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lienthong-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A Kafka broker of a test file's own, from the same stack manager as the shared one, started
 * and ready: stopping or killing it leaves the broker the other files share alone.
 */
export async function startPrivateBroker(stateDir: string): Promise<LocalKafka> {
  const broker = new LocalKafka({
    stateDir,
    port: await freePort(),
    controllerPort: await freePort(),
    heapMb: 512,
    // The test stack's CA and passwords, so that every principal's password file serves both.
    securityDir: process.env.LIENTHONG_KAFKA_SECRETS_DIR
      ? dirname(process.env.LIENTHONG_KAFKA_SECRETS_DIR)
      : join(stateDir, 'security'),
    principals: busPrincipals(),
    progress: () => undefined,
  });
  await broker.start();
  await broker.waitReady();
  return broker;
}

/**
 * A store (FerretDB) of a test file's own, from the same stack manager as the shared one, started
 * and ready: stopping or killing it leaves the store the other files share alone.
 */
export async function startPrivateStore(stateDir: string): Promise<LocalFerretDb> {
  const store = new LocalFerretDb({ stateDir, port: await freePort(), progress: () => undefined });
  await store.start();
  await store.waitReady();
  return store;
}

import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Progress } from '../../deploy/local/provision';
import { ensureGoProgram, ensurePythonEnv } from '../../deploy/local/toolchains';

const PYTHON_CLIENT = join(__dirname, 'python-client');
const GO_CLIENT = join(__dirname, 'go-client');

/** How to run each official client's driver: a command and its arguments. */
export interface InteropClients {
  python: readonly string[];
  go: readonly string[];
}

/**
 * Confluent's official clients in other languages, installed once into the shared cache:
 * `confluent-kafka` from PyPI in a venv, and a Go program on `confluent-kafka-go/v2` (cgo, its
 * bundled librdkafka) from the Go module proxy. A no-op when both are cached.
 */
export async function ensureInteropClients(progress: Progress): Promise<InteropClients> {
  const [python, go] = await Promise.all([
    ensurePythonEnv({ requirements: join(PYTHON_CLIENT, 'requirements.txt'), progress }),
    ensureGoProgram({
      moduleDir: GO_CLIENT,
      sources: readdirSync(GO_CLIENT)
        .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
        .sort()
        .map((f) => join(GO_CLIENT, f)),
      progress,
      cgo: true,
    }),
  ]);
  return { python: [python, join(PYTHON_CLIENT, 'driver.py')], go: [go] };
}

/** One client call as a driver reports it. */
export interface DriverStep {
  step: string;
  /** The client method, as the client names it. */
  call: string;
  ok: boolean;
  result?: unknown;
  /** The HTTP status, where the client exposes it (the Go client does not). */
  status?: number | null;
  error_code?: number | null;
  message?: string;
}

/**
 * Runs a driver with its plan in a file and collects its steps by name. A driver that exits
 * non-zero, or prints what is not a step, fails the run with its stderr; one still running
 * 15 s after its budget is killed.
 */
export async function runDriver(
  command: readonly string[],
  plan: unknown,
  planFile: string,
  budgetSeconds: number,
): Promise<Map<string, DriverStep>> {
  writeFileSync(planFile, JSON.stringify(plan));
  const [program = '', ...args] = command;
  const child = spawn(program, args, {
    env: { ...process.env, INTEROP_PLAN: planFile, INTEROP_BUDGET_SECONDS: String(budgetSeconds) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The driver keeps its own deadline; this is for one that hangs in a client's native code.
  const killer = setTimeout(() => child.kill('SIGKILL'), (budgetSeconds + 15) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(killer));
  if (code !== 0) throw new Error(`${program} exited with ${code}:\n${stderr.slice(-4_000)}`);
  const steps = new Map<string, DriverStep>();
  for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) {
    const parsed = JSON.parse(line) as DriverStep;
    steps.set(parsed.step, parsed);
  }
  return steps;
}

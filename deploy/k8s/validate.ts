/**
 * `npm run deploy:check`: the deployment files, checked offline as CI runs them.
 *
 * - The Kubernetes base matches the declarations in code (`k8s:generate --check`), and so does
 *   the compose file (`compose:generate --check`).
 * - The compose file loads with compose-go, the library `docker compose` loads files with: the
 *   Compose specification's JSON schema (an unknown or misspelt field fails), then its consistency
 *   checks (every secret, volume and service a service names is declared).
 * - Each overlay builds with kustomize, as `kubectl apply -k` would build it.
 * - Its built-in kinds are valid against Kubernetes' own schemas (`kubernetes-validate` from
 *   PyPI, strict: an unknown field fails), and its Strimzi resources against the Strimzi CRDs'
 *   schemas (`@kubernetes-models/strimzi-kafka-operator`).
 *
 * The Go and Python tools are built once into the shared cache, with progress.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { ensureGoProgram, ensurePythonEnv } from '../local/toolchains';
import { driftedFiles } from './generate';
import { COMPOSE_PATH, composeDrifted } from '../compose/generate';

const ROOT = resolve(__dirname, '..', '..');
const OVERLAYS = ['dev', 'production'];
const TOOL_DIR = join(ROOT, 'deploy', 'tools', 'deploy-check');
/** The Kubernetes release whose schemas the built-in kinds are held to. */
export const KUBERNETES_VERSION = '1.31.0';

type Doc = { apiVersion: string; kind: string; metadata?: { name?: string } };

function run(command: string, args: readonly string[]): { ok: boolean; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1_048_576 });
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}

/** The problems of the Strimzi resources among `docs`, one line each. */
async function strimziProblems(docs: readonly Doc[]): Promise<string[]> {
  // An ES module only: imported, not required.
  const models =
    (await import('@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2')) as Record<
      string,
      new (doc: unknown) => { validate(): void }
    >;
  const problems: string[] = [];
  for (const doc of docs.filter((d) => d.apiVersion === 'kafka.strimzi.io/v1beta2')) {
    const Model = models[doc.kind];
    if (!Model) {
      problems.push(`${doc.kind} ${doc.metadata?.name}: no Strimzi schema for this kind`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      problems.push(`${doc.kind} ${doc.metadata?.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  let failed = 0;
  const report = (what: string, problems: readonly string[]): void => {
    if (problems.length === 0) progress(`ok    ${what}`);
    else {
      failed += 1;
      progress(`FAIL  ${what}\n${problems.map((p) => `      ${p}`).join('\n')}`);
    }
  };

  report(
    'deploy/k8s/base matches the declarations in code',
    driftedFiles().map((name) => `${name} differs: run npm run k8s:generate`),
  );
  const tool = await ensureGoProgram({
    moduleDir: TOOL_DIR,
    sources: ['main.go', 'go.mod', 'go.sum'].map((f) => join(TOOL_DIR, f)),
    progress,
  });
  report(
    'deploy/compose/compose.yaml matches the declarations in code',
    composeDrifted() ? ['compose.yaml differs: run npm run compose:generate'] : [],
  );
  const composed = run(tool, ['compose', COMPOSE_PATH]);
  report(
    "deploy/compose/compose.yaml against the Compose specification's schema (compose-go)",
    composed.ok ? [] : [composed.out.trim()],
  );
  const python = await ensurePythonEnv({ requirements: join(__dirname, 'requirements.txt'), progress });
  const scratch = mkdtempSync(join(tmpdir(), 'lienthong-deploy-check-'));
  try {
    for (const overlay of OVERLAYS) {
      const built = run(tool, ['kustomize', join(__dirname, 'overlays', overlay)]);
      report(`kustomize build deploy/k8s/overlays/${overlay}`, built.ok ? [] : [built.out.trim()]);
      if (!built.ok) continue;
      const docs = parseAllDocuments(built.out).map((d) => d.toJS() as Doc);
      const core = docs.filter((d) => !d.apiVersion.startsWith('kafka.strimzi.io/'));
      const file = join(scratch, `${overlay}.yaml`);
      writeFileSync(file, core.map((d) => `---\n${JSON.stringify(d)}\n`).join(''));
      const checked = run(python, [
        '-m',
        'kubernetes_validate',
        '--strict',
        '--quiet',
        '-k',
        KUBERNETES_VERSION,
        file,
      ]);
      report(
        `${overlay}: ${core.length} resources against Kubernetes ${KUBERNETES_VERSION}'s schemas`,
        checked.ok ? [] : checked.out.trim().split('\n'),
      );
      report(
        `${overlay}: ${docs.length - core.length} Strimzi resources against the Strimzi CRDs' schemas`,
        await strimziProblems(docs),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  progress(failed === 0 ? 'deploy:check: all passed' : `deploy:check: ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);

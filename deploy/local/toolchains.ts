import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cacheRoot, ensureArtifact, type Progress, recipeDigest, runWithProgress } from './provision';

/**
 * The Python interpreter that tests and tools from PyPI run with: `python3` on PATH unless
 * `LIENTHONG_PYTHON` names another.
 */
function basePython(env: NodeJS.ProcessEnv): string {
  return env.LIENTHONG_PYTHON ?? 'python3';
}

export interface PythonEnvOptions {
  /** A pinned `requirements.txt`; the environment is rebuilt when it changes. */
  requirements: string;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/**
 * A Python virtual environment holding exactly `requirements`, built once from PyPI into the
 * shared cache, outside the checkout. The directory is named after the requirements file's
 * digest, so a changed pin builds a new one beside the old.
 *
 * The environment is built in a scratch directory and renamed into place, which leaves console
 * scripts with a stale shebang: run its tools as `python -m <module>`.
 * @returns the environment's `python`
 */
export async function ensurePythonEnv(options: PythonEnvOptions): Promise<string> {
  const env = options.env ?? process.env;
  const name = basename(dirname(options.requirements));
  const dir = join(cacheRoot(env), `python-${name}-${recipeDigest([options.requirements])}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(python)) return python;
  // A venv whose interpreter is gone (the base Python was upgraded or removed) is rebuilt.
  rmSync(dir, { recursive: true, force: true });
  const { progress } = options;
  progress(`${name}: installing Python packages from PyPI into ${dir} (first run only)`);
  await ensureArtifact(dir, async (scratch) => {
    await runWithProgress(basePython(env), ['-m', 'venv', scratch], {
      label: `${name}: python -m venv`,
      progress,
      env,
    });
    await runWithProgress(
      join(scratch, 'bin', 'python'),
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--progress-bar',
        'off',
        '-r',
        options.requirements,
      ],
      {
        label: `${name}: pip install`,
        progress,
        env,
        onLine: (line) => (line.startsWith('Collecting ') ? `${name}: ${line}` : undefined),
      },
    );
  });
  return python;
}

export interface GoProgramOptions {
  /** A Go module directory with its `go.mod` and `go.sum`, building one `main` package. */
  moduleDir: string;
  /** The files the binary is built from; the binary is rebuilt when one of them changes. */
  sources: readonly string[];
  progress: Progress;
  /** Whether the program links C code (librdkafka for confluent-kafka-go). */
  cgo?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds a Go program of the project's with the local Go toolchain, its modules from the Go
 * module proxy as the committed `go.sum` pins them, into the shared cache.
 * @returns the binary's path
 */
export async function ensureGoProgram(options: GoProgramOptions): Promise<string> {
  const env = options.env ?? process.env;
  const name = basename(options.moduleDir);
  const dir = join(cacheRoot(env), `go-${name}-${recipeDigest(options.sources)}`);
  const binary = join(dir, name);
  if (existsSync(binary)) return binary;
  const { progress } = options;
  progress(`${name}: building with Go, modules from the Go module proxy (first run only)`);
  await ensureArtifact(dir, (scratch) =>
    runWithProgress('go', ['build', '-trimpath', '-o', join(scratch, name), '.'], {
      cwd: options.moduleDir,
      env: {
        ...env,
        CGO_ENABLED: options.cgo ? '1' : '0',
        // go.sum pins the modules; no VCS stamp, since the cache key is the sources' digest.
        GOFLAGS: '-mod=readonly -buildvcs=false',
        GOTOOLCHAIN: 'local',
      },
      label: `${name}: go build`,
      progress,
      onLine: (line) => (line.startsWith('go: downloading ') ? `${name}: ${line.slice(4)}` : undefined),
    }),
  );
  return binary;
}

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recipeDigest } from '../../../deploy/local/provision';
import { ensureGoProgram, ensurePythonEnv } from '../../../deploy/local/toolchains';
import { scratchDir } from '../../support/fixtures';

/** A cache and a tool's recipe in a scratch directory; nothing here reaches PyPI or the proxy. */
function workspace() {
  const scratch = scratchDir('toolchains');
  const cache = join(scratch.path, 'cache');
  const tool = join(scratch.path, 'my-tool');
  mkdirSync(tool, { recursive: true });
  return { scratch, cache, tool, env: { LIENTHONG_CACHE_DIR: cache } };
}

describe('ensurePythonEnv', () => {
  it('returns the environment cached for these requirements without building', async () => {
    const { scratch, cache, tool, env } = workspace();
    const requirements = join(tool, 'requirements.txt');
    writeFileSync(requirements, 'fastavro==1.13.1\n');
    const python = join(cache, `python-my-tool-${recipeDigest([requirements])}`, 'bin', 'python');
    mkdirSync(join(python, '..'), { recursive: true });
    writeFileSync(python, '');
    const progress = jest.fn();

    await expect(ensurePythonEnv({ requirements, progress, env })).resolves.toBe(python);
    expect(progress).not.toHaveBeenCalled();
    scratch.remove();
  });

  it('builds a new environment when a pin changes', async () => {
    const { scratch, cache, tool, env } = workspace();
    const requirements = join(tool, 'requirements.txt');
    writeFileSync(requirements, 'fastavro==1.13.1\n');
    const cached = join(cache, `python-my-tool-${recipeDigest([requirements])}`, 'bin', 'python');
    mkdirSync(join(cached, '..'), { recursive: true });
    writeFileSync(cached, '');
    writeFileSync(requirements, 'fastavro==1.13.2\n');
    const progress = jest.fn();

    // No interpreter answers here, so the build fails: what matters is that it was attempted.
    await expect(
      ensurePythonEnv({ requirements, progress, env: { ...env, LIENTHONG_PYTHON: join(tool, 'none') } }),
    ).rejects.toThrow();
    expect(progress).toHaveBeenCalledWith(expect.stringContaining('installing Python packages'));
    scratch.remove();
  });

  it('clears an environment whose interpreter is gone instead of trusting it', async () => {
    const { scratch, cache, tool, env } = workspace();
    const requirements = join(tool, 'requirements.txt');
    writeFileSync(requirements, 'fastavro==1.13.1\n');
    const dir = join(cache, `python-my-tool-${recipeDigest([requirements])}`);
    mkdirSync(join(dir, 'lib'), { recursive: true });

    await expect(
      ensurePythonEnv({
        requirements,
        progress: () => undefined,
        env: { ...env, LIENTHONG_PYTHON: join(tool, 'none') },
      }),
    ).rejects.toThrow();
    expect(existsSync(dir)).toBe(false);
    scratch.remove();
  });
});

describe('ensureGoProgram', () => {
  it('returns the binary built from these sources without building', async () => {
    const { scratch, cache, tool, env } = workspace();
    const source = join(tool, 'main.go');
    writeFileSync(source, 'package main\n\nfunc main() {}\n');
    const binary = join(cache, `go-my-tool-${recipeDigest([source])}`, 'my-tool');
    mkdirSync(join(binary, '..'), { recursive: true });
    writeFileSync(binary, '');
    const progress = jest.fn();

    await expect(ensureGoProgram({ moduleDir: tool, sources: [source], progress, env })).resolves.toBe(
      binary,
    );
    expect(progress).not.toHaveBeenCalled();
    scratch.remove();
  });
});

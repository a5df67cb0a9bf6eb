import { dirname, join } from 'node:path';
import { ensurePythonEnv } from '../../deploy/local/toolchains';

/** The pinned schemathesis environment: see `requirements.txt` beside it. */
export const SCHEMATHESIS_REQUIREMENTS = join(__dirname, 'schemathesis', 'requirements.txt');

/**
 * Where Hypothesis keeps the Unicode tables it builds on first use (seconds of CPU, more than a
 * short run's whole budget on a loaded machine): beside the environment, so that they are built
 * once rather than in every run's scratch directory. Runs keep no examples there.
 */
export function hypothesisStorage(python: string): string {
  return join(dirname(dirname(python)), 'hypothesis');
}

/** Builds (once, into the shared cache) the Python environment schemathesis runs in; its `python`. */
export function ensureSchemathesis(progress: (line: string) => void = () => undefined): Promise<string> {
  return ensurePythonEnv({ requirements: SCHEMATHESIS_REQUIREMENTS, progress });
}

// `npm run fuzz:setup`: what CI runs before the tests, so that the fuzz test finds it built.
if (require.main === module) {
  ensureSchemathesis((line) => console.log(line)).then(
    (python) => console.log(`schemathesis: ${python}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

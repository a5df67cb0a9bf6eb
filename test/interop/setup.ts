/**
 * `npm run interop:setup`: installs the official clients the interop suite drives, with progress,
 * into the shared cache. `npm test` does the same on its first run; CI runs this first so that
 * the install shows as a setup step of its own.
 */
import { ensureInteropClients } from './clients';

const started = Date.now();
ensureInteropClients((line) => process.stderr.write(`${line}\n`)).then(
  (clients) => {
    process.stderr.write(
      `interop clients ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
        `${clients.python.join(' ')}; ${clients.go.join(' ')}\n`,
    );
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);

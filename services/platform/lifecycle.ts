import closeWithGrace from 'close-with-grace';
import { type Logger } from 'pino';
import { ConfigError, ERROR_CODES, UnavailableError } from './errors';
import { preloadedTelemetry } from './telemetry-handle';

/** What every service and connector exposes, whatever it runs inside. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LifecycleHooks {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wraps start and stop hooks into a {@link Service} that is safe to drive from anywhere:
 *
 * - `start()` runs the hook once; later and concurrent calls get the same promise;
 * - `stop()` before any `start()` is a no-op;
 * - `stop()` waits for an in-flight start, then runs the stop hook once; later and concurrent
 *   calls get the same promise. It runs even when start failed, because a half-done start may
 *   hold connections, so stop hooks must tolerate a partial start;
 * - once stopping has begun, `start()` rejects with `SHUTTING_DOWN`: a stopped service is not
 *   restarted, a new one is built.
 */
export function createLifecycle(name: string, hooks: LifecycleHooks): Service {
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  return {
    name,
    start() {
      if (stopping) {
        return Promise.reject(
          new UnavailableError(ERROR_CODES.SHUTTING_DOWN, `${name} is stopping or stopped`),
        );
      }
      starting ??= Promise.resolve().then(() => hooks.start());
      return starting;
    },
    stop() {
      if (!starting) {
        // Never started: remember the stop so that a later start() refuses to run.
        stopping ??= Promise.resolve();
        return stopping;
      }
      const started = starting;
      stopping ??= started
        .catch(() => {
          // The start error belongs to whoever called start(); stop still releases what it opened.
        })
        .then(() => hooks.stop());
      return stopping;
    },
  };
}

/**
 * One service made of several. They start in the order given, each after the previous one has
 * started, and stop in reverse order, so that a part stops before what it depends on.
 *
 * A failing start stops the parts already started (in reverse) before rejecting. A failing stop
 * does not stop the rest from stopping: every error is collected and thrown as one
 * `AggregateError` at the end.
 */
export function composeServices(name: string, services: readonly Service[]): Service {
  // The parts whose start() was called and that have not been stopped yet, in start order.
  const running: Service[] = [];

  const stopRunning = async (): Promise<unknown[]> => {
    const errors: unknown[] = [];
    while (running.length > 0) {
      const service = running.pop() as Service;
      try {
        await service.stop();
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  };

  return createLifecycle(name, {
    async start() {
      for (const service of services) {
        // Pushed before start() resolves: a part that failed halfway is stopped too.
        running.push(service);
        try {
          await service.start();
        } catch (error) {
          const stopErrors = await stopRunning();
          if (stopErrors.length > 0) {
            throw new AggregateError(
              [error, ...stopErrors],
              `${name} failed to start ${service.name}, and stopping the started parts failed too`,
            );
          }
          throw error;
        }
      }
    },
    async stop() {
      const errors = await stopRunning();
      if (errors.length > 0) {
        throw new AggregateError(errors, `${name} failed to stop cleanly (${errors.length} errors)`);
      }
    },
  });
}

/** What `runMain` needs from telemetry: something to flush and close last. */
export interface ShutdownHandle {
  shutdown(): Promise<void>;
}

export interface RunMainOptions {
  logger: Logger;
  /** Loads config and wires dependencies. A `ConfigError` thrown here becomes one stderr line. */
  build: () => Service | Promise<Service>;
  /** Milliseconds a graceful stop may take before the process exits anyway. */
  delay?: number;
  /** Shut down after the service; the `--require`d telemetry by default. */
  telemetry?: ShutdownHandle;
  /** Injected by tests; `process.exit` otherwise. */
  exit?: (code: number) => void;
  /** Injected by tests; `process.stderr` otherwise. */
  stderr?: { write(line: string): unknown };
}

/**
 * The body of every `main.ts`: build the service, start it, and stop it gracefully on SIGTERM,
 * SIGINT, an uncaught exception or an unhandled rejection, through close-with-grace.
 *
 * Shutdown order. `service.stop()` carries the first four steps, because a composed service
 * stops its parts in reverse start order; telemetry is closed here, after it:
 * 1. stop intake: HTTP answers 503 while closing, `consumer.stop()`;
 * 2. drain in-flight work and commit offsets;
 * 3. disconnect the Kafka clients;
 * 4. close MongoDB;
 * 5. shut telemetry down last, so the spans of the steps above are still exported.
 *
 * A configuration error exits 1 with its message as a single stderr line and no stack trace:
 * the operator needs the variable names, not a trace. Any other startup failure is logged, what
 * had started is stopped, and the process exits 1.
 */
export async function runMain(options: RunMainOptions): Promise<void> {
  const { logger, build, delay = 10_000 } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stderr = options.stderr ?? process.stderr;
  const telemetry = options.telemetry ?? preloadedTelemetry();

  const closeTelemetry = async (): Promise<void> => {
    try {
      await telemetry.shutdown();
    } catch (error) {
      logger.warn({ err: error }, 'Telemetry did not shut down cleanly');
    }
  };

  let service: Service;
  try {
    service = await build();
  } catch (error) {
    await failStartup(error, { logger, stderr });
    await closeTelemetry();
    exit(1);
    return;
  }

  // Installed before start(), so a signal during startup still stops what had started.
  const listeners = closeWithGrace({ delay, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, `${service.name} is stopping after an uncaught error`);
    else logger.info({ signal }, `${service.name} is stopping`);
    try {
      await service.stop();
    } finally {
      await closeTelemetry();
    }
  });

  try {
    await service.start();
  } catch (error) {
    listeners.uninstall();
    await failStartup(error, { logger, stderr });
    try {
      await service.stop();
    } catch (stopError) {
      logger.error({ err: stopError }, `${service.name} did not stop cleanly after a failed start`);
    }
    await closeTelemetry();
    exit(1);
    return;
  }
  logger.info(`${service.name} started`);
}

async function failStartup(
  error: unknown,
  { logger, stderr }: { logger: Logger; stderr: { write(line: string): unknown } },
): Promise<void> {
  if (error instanceof ConfigError) {
    stderr.write(`${error.message}\n`);
    return;
  }
  logger.error({ err: error }, 'Startup failed');
  // pino may buffer; give the line a chance to reach its destination before exit.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}

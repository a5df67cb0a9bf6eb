import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { NOOP_TELEMETRY, type TelemetryHandle } from './telemetry-handle';

/** The part of a pino logger telemetry warns through. */
export interface TelemetryLogger {
  warn(obj: object, msg: string): void;
}

/** The part of the SDK telemetry drives; tests give their own. */
export interface TelemetrySdk {
  start(): void;
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  serviceName: string;
  /** Where the `OTEL_*` variables are read; see {@link startTelemetry} about the SDK itself. */
  env: NodeJS.ProcessEnv;
  /** Warnings go here; to stderr when not given. */
  logger?: TelemetryLogger;
  /** Builds the SDK; `new NodeSDK(config)` by default. */
  createSdk?: (config: Partial<NodeSDKConfiguration>) => TelemetrySdk;
}

// The values @opentelemetry/sdk-node understands for these variables.
const TRACES_EXPORTERS = new Set(['otlp', 'console', 'zipkin', 'none']);
const OTLP_PROTOCOLS = new Set(['grpc', 'http/protobuf', 'http/json']);
const ENDPOINT_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const;
const PROTOCOL_VARIABLES = ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] as const;

/**
 * Starts OpenTelemetry tracing when the environment asks for it: `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or its traces variant) is set, or `OTEL_TRACES_EXPORTER` names an exporter other than `none`.
 * `OTEL_SDK_DISABLED=true` turns it off. Otherwise the handle is a no-op.
 *
 * Unlike the rest of the config, telemetry never takes a service down: an unknown exporter, a
 * malformed endpoint or an SDK that fails to start is reported as a warning, and the service runs
 * without telemetry. Only traces are set up: logs go through pino and metrics are served on
 * `/metrics`, so the SDK's log and metric exporters are turned off.
 *
 * `env` decides whether the SDK starts and is checked here; the SDK then reads its exporter
 * settings from `process.env` itself, so outside of tests pass `process.env`.
 *
 * @see opentelemetry-js `startNodeSDK`, which falls back to a no-op SDK in the same way
 */
export function startTelemetry(options: StartTelemetryOptions): TelemetryHandle {
  const { env, serviceName } = options;
  const warn = (message: string, error?: unknown): void => {
    if (options.logger) options.logger.warn(error === undefined ? {} : { err: error }, message);
    else process.stderr.write(`${message}${error === undefined ? '' : `: ${describe(error)}`}\n`);
  };

  if (!isConfigured(env)) return NOOP_TELEMETRY;

  const problems = checkEnv(env);
  if (problems.length > 0) {
    warn(`Telemetry is off because its configuration is invalid: ${problems.join('; ')}`);
    return NOOP_TELEMETRY;
  }

  let sdk: TelemetrySdk;
  try {
    if (options.logger) bridgeDiagnostics(options.logger);
    const config: Partial<NodeSDKConfiguration> = { serviceName, metricReaders: [], logRecordProcessors: [] };
    sdk = options.createSdk ? options.createSdk(config) : new NodeSDK(config);
    sdk.start();
  } catch (error) {
    warn('Telemetry is off because the OpenTelemetry SDK failed to start', error);
    return NOOP_TELEMETRY;
  }

  let closing: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown() {
      closing ??= Promise.resolve()
        .then(() => sdk.shutdown())
        .catch((error: unknown) => warn('Telemetry did not shut down cleanly', error));
      return closing;
    },
  };
}

/** Whether the environment asks for telemetry at all. */
export function isConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  // An explicit `none` wins over an endpoint left in the environment.
  if (exporters.length > 0) return !(exporters.length === 1 && exporters[0] === 'none');
  return ENDPOINT_VARIABLES.some((name) => (env[name] ?? '').trim() !== '');
}

/** What is wrong with the telemetry variables, one sentence per variable. */
export function checkEnv(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const unknown = listOf(env.OTEL_TRACES_EXPORTER).filter((name) => !TRACES_EXPORTERS.has(name));
  if (unknown.length > 0) {
    problems.push(
      `OTEL_TRACES_EXPORTER must be one of ${[...TRACES_EXPORTERS].join(', ')} (got ${unknown.join(', ')})`,
    );
  }
  for (const name of ENDPOINT_VARIABLES) {
    const value = env[name]?.trim();
    if (value && !isHttpUrl(value)) problems.push(`${name} must be an http:// or https:// URL`);
  }
  for (const name of PROTOCOL_VARIABLES) {
    const value = env[name]?.trim();
    if (value && !OTLP_PROTOCOLS.has(value)) {
      problems.push(`${name} must be one of ${[...OTLP_PROTOCOLS].join(', ')}`);
    }
  }
  return problems;
}

/** Sends the SDK's own warnings (exporter failures, for instance) to the service logger. */
function bridgeDiagnostics(logger: TelemetryLogger): void {
  const toWarn = (message: string, ...args: unknown[]): void =>
    logger.warn({ otel: args.length > 0 ? args.map(describe) : undefined }, message);
  const bridge: DiagLogger = {
    error: toWarn,
    warn: toWarn,
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(bridge, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

import { type LogEntry, type logCreator, logLevel } from 'kafkajs';
import pino, { type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';

export { type Logger } from 'pino';

/**
 * Field names that hold personal identifiers or personal facts: citizen ids (CCCD), the people a
 * dossier, an enterprise or a vehicle is tied to, and the tax situation of persons. Enterprise
 * codes and plates are public registry keys and are not listed.
 */
export const PERSONAL_FIELDS = [
  'citizenId',
  'citizenIds',
  'cccd',
  'applicantId',
  'ownerId',
  'previousOwnerId',
  'newOwnerId',
  'representativeId',
  'legalRepresentativeId',
  'personalTaxCode',
  'personalTaxStatus',
  'personalTaxDebt',
  'taxDebt',
] as const;

const REQUEST_SECRETS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
] as const;

/**
 * pino `redact` paths. Each personal field is covered at the top level and one or two levels
 * deep (`citizenId`, `*.citizenId`, `*.*.citizenId`), which covers a record logged under a key
 * and a record inside an array; deeper nesting is not redacted, so do not log whole envelopes.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...PERSONAL_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
  ...REQUEST_SECRETS,
]);

export const REDACT_CENSOR = '[redacted]';

export interface CreateLoggerOptions {
  /** The process or component name, written as `name` on every line. */
  name: string;
  /** A pino level; `info` when not given. */
  level?: string;
  /** Where lines go; stdout when not given. Tests pass a memory stream. */
  destination?: DestinationStream;
  /** Bindings for every line, such as `{ agency: 'tax' }`. */
  bindings?: Record<string, unknown>;
}

/**
 * Creates the one pino logger of a process. Personal identifiers and credentials are redacted
 * by {@link REDACT_PATHS} before a line is written.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pinoOptions: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
  return options.bindings ? logger.child(options.bindings) : logger;
}

/**
 * The kafkajs log level that emits exactly what a pino logger at `pinoLevel` keeps, so kafkajs
 * does not build records that pino would drop. kafkajs has no fatal or trace level: `fatal`
 * keeps no kafkajs record, and `trace` keeps them all.
 */
export function toKafkaLogLevel(pinoLevel: string): logLevel {
  switch (pinoLevel) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'error':
      return logLevel.ERROR;
    case 'fatal':
    case 'silent':
      return logLevel.NOTHING;
    default:
      // A custom pino level: let pino decide what to keep.
      return logLevel.INFO;
  }
}

/** The pino method for a kafkajs level, or undefined for NOTHING. */
export function toPinoLevel(level: logLevel): Level | undefined {
  switch (level) {
    case logLevel.ERROR:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'info';
    case logLevel.DEBUG:
      return 'debug';
    default:
      return undefined;
  }
}

/**
 * A kafkajs `logCreator` that writes through pino, so the process has one logger. Each kafkajs
 * namespace (`Producer`, `Consumer`, `Connection`...) gets a child logger bound to `{ namespace }`.
 *
 * @see https://kafka.js.org/docs/custom-logger
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  const base = logger.child({ component: 'kafkajs' });
  const children = new Map<string, Logger>();
  const childFor = (namespace: string): Logger => {
    let child = children.get(namespace);
    if (!child) {
      child = base.child({ namespace });
      children.set(namespace, child);
    }
    return child;
  };

  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const method = toPinoLevel(level);
      if (method === undefined) return;
      // pino stamps its own time; kafkajs's timestamp would only repeat it.
      const extra: Record<string, unknown> = { ...log };
      delete extra.message;
      delete extra.timestamp;
      childFor(namespace)[method](extra, log.message);
    };
}

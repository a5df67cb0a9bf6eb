/**
 * Stable error codes. A code is part of the contract: it travels in problem+json bodies and in
 * dead-letter headers, so a code is never renamed or reused once released.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  KAFKA_UNAVAILABLE: 'KAFKA_UNAVAILABLE',
  // The broker refused this principal an operation its ACLs do not allow.
  KAFKA_NOT_AUTHORIZED: 'KAFKA_NOT_AUTHORIZED',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  // A rebuild is handing the views over: the live consumer waits to write them.
  VIEWS_FENCED: 'VIEWS_FENCED',
  // A consumer that cannot show it is still a member of its group writes nothing until it can.
  MEMBERSHIP_LAPSED: 'MEMBERSHIP_LAPSED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  // Why a connector's file import failed; they travel in the import's status.
  IMPORT_STATUS_CORRUPT: 'IMPORT_STATUS_CORRUPT',
  IMPORT_SPOOL_MISSING: 'IMPORT_SPOOL_MISSING',
  // Why a consumed message was dead-lettered; they travel in the dead-letter headers.
  EVENT_UNDECODABLE: 'EVENT_UNDECODABLE',
  SCHEMA_UNKNOWN: 'SCHEMA_UNKNOWN',
  SCHEMA_INCOMPATIBLE: 'SCHEMA_INCOMPATIBLE',
  EVENT_INVALID: 'EVENT_INVALID',
  // Why a decoded event could not be applied to the views.
  PROJECTION_FAILED: 'PROJECTION_FAILED',
  DOCUMENT_TOO_LARGE: 'DOCUMENT_TOO_LARGE',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface LienthongErrorOptions {
  /** The error this one wraps (ES2022 error cause). */
  cause?: unknown;
  /** Whether trying the same thing again may succeed. Defaults to false. */
  retriable?: boolean;
  /** The HTTP status this error answers with when it reaches a route. */
  statusCode?: number;
}

/** The base of every error lienthong raises on purpose. */
export class LienthongError extends Error {
  override name = 'LienthongError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly statusCode?: number;

  constructor(code: ErrorCode, message: string, options: LienthongErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
  }
}

export interface ConfigIssue {
  /** The environment variable at fault. */
  variable: string;
  message: string;
}

/**
 * Bad or missing configuration. The message names every variable at once, so an operator fixes
 * the environment in one pass instead of one restart per mistake.
 */
export class ConfigError extends LienthongError {
  override name = 'ConfigError';
  readonly issues: ReadonlyArray<ConfigIssue>;

  constructor(issues: ReadonlyArray<ConfigIssue>, options: { cause?: unknown } = {}) {
    super(ERROR_CODES.CONFIG_INVALID, `Invalid configuration: ${issues.map((i) => i.message).join('; ')}`, {
      cause: options.cause,
    });
    this.issues = Object.freeze([...issues]);
  }
}

export interface ValidationIssue {
  /** JSON pointer or dotted path of the offending field, as the validator reported it. */
  path: string;
  /** A short machine-readable reason, such as the failing keyword. */
  code: string;
  message: string;
}

/** Input that does not match its contract. Never retriable: the same bytes fail the same way. */
export class ValidationError extends LienthongError {
  override name = 'ValidationError';
  readonly issues: ValidationIssue[];

  constructor(message: string, issues: ValidationIssue[], options: { cause?: unknown } = {}) {
    super(ERROR_CODES.VALIDATION_FAILED, message, { cause: options.cause, statusCode: 400 });
    this.issues = issues;
  }
}

/**
 * A dependency (Kafka, the store, the registry) cannot be reached right now, or the service is
 * shutting down. Retriable, and answered with 503 so a client knows to try again later.
 */
export class UnavailableError extends LienthongError {
  override name = 'UnavailableError';

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: true, statusCode: 503 });
  }
}

/**
 * MongoDB driver errors that mean "the server or the network is in a passing state".
 * @see https://github.com/mongodb/specifications/blob/master/source/retryable-writes/retryable-writes.md#terms
 */
const MONGO_TRANSIENT_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
]);
const MONGO_TRANSIENT_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'ResetPool'];
// The driver's retryable read/write codes: stepdowns, shutdowns, host and socket trouble.
// FerretDB does not always attach error labels, so the codes are checked as well.
const MONGO_TRANSIENT_CODES = new Set([6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

// A socket's own failures. The MongoDB driver lets some through unwrapped: a find written to a
// connection the store closed a moment before rejects with Node's EPIPE, not a MongoNetworkError.
const SOCKET_TRANSIENT_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** How far down a `cause` chain to look; deep enough for wrappers, bounded against cycles. */
const MAX_CAUSE_DEPTH = 5;

/**
 * Whether an operation that failed with `err` may succeed if tried again. It decides what the
 * consumer does with a failed message: retriable errors are rethrown so the message is retried;
 * anything else goes to the dead-letter topic.
 *
 * - {@link LienthongError}: its own `retriable` flag;
 * - kafkajs errors: their `retriable` flag, except that an exhausted retry is judged by its cause;
 * - MongoDB driver errors: network and server-selection errors, errors labelled
 *   `RetryableWriteError` or `TransientTransactionError`, and the driver's retryable codes;
 * - any other error: its `cause`, if any, else not retriable.
 *
 * @see https://kafka.js.org/docs/retry-detailed (`retriable` on `KafkaJSError`)
 */
export function isRetriable(err: unknown): boolean {
  return retriableAt(err, 0);
}

function retriableAt(err: unknown, depth: number): boolean {
  if (depth > MAX_CAUSE_DEPTH || typeof err !== 'object' || err === null) return false;
  if (err instanceof LienthongError) return err.retriable;
  const e = err as {
    name?: unknown;
    retriable?: unknown;
    cause?: unknown;
    code?: unknown;
    hasErrorLabel?: unknown;
    errorLabels?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : '';

  if (name.startsWith('KafkaJS')) {
    // kafkajs marks "gave up after N retries" as non-retriable, yet a broker that was down for
    // the whole retry window is exactly the transient case: judge by what was retried.
    if (name === 'KafkaJSNumberOfRetriesExceeded' && e.cause !== undefined && e.cause !== err) {
      return retriableAt(e.cause, depth + 1);
    }
    if (typeof e.retriable === 'boolean') return e.retriable;
  }

  if (name.startsWith('Mongo')) {
    if (MONGO_TRANSIENT_NAMES.has(name)) return true;
    if (typeof e.hasErrorLabel === 'function') {
      const hasLabel = e.hasErrorLabel as (label: string) => boolean;
      if (MONGO_TRANSIENT_LABELS.some((label) => hasLabel.call(err, label))) return true;
    } else if (Array.isArray(e.errorLabels)) {
      const labels = e.errorLabels as unknown[];
      if (MONGO_TRANSIENT_LABELS.some((label) => labels.includes(label))) return true;
    }
    if (typeof e.code === 'number' && MONGO_TRANSIENT_CODES.has(e.code)) return true;
    return false;
  }

  // Other libraries that follow kafkajs's convention.
  if (typeof e.retriable === 'boolean') return e.retriable;
  if (typeof e.code === 'string' && SOCKET_TRANSIENT_CODES.has(e.code)) return true;
  if (e.cause !== undefined && e.cause !== err) return retriableAt(e.cause, depth + 1);
  return false;
}

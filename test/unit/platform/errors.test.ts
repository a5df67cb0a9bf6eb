import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import {
  ConfigError,
  ERROR_CODES,
  isRetriable,
  LienthongError,
  UnavailableError,
  ValidationError,
} from '../../../services/platform';

describe('error codes', () => {
  it('are stable strings equal to their names', () => {
    expect(ERROR_CODES).toEqual({
      CONFIG_INVALID: 'CONFIG_INVALID',
      KAFKA_UNAVAILABLE: 'KAFKA_UNAVAILABLE',
      KAFKA_NOT_AUTHORIZED: 'KAFKA_NOT_AUTHORIZED',
      STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
      VIEWS_FENCED: 'VIEWS_FENCED',
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
      IMPORT_STATUS_CORRUPT: 'IMPORT_STATUS_CORRUPT',
      IMPORT_SPOOL_MISSING: 'IMPORT_SPOOL_MISSING',
      EVENT_UNDECODABLE: 'EVENT_UNDECODABLE',
      SCHEMA_UNKNOWN: 'SCHEMA_UNKNOWN',
      SCHEMA_INCOMPATIBLE: 'SCHEMA_INCOMPATIBLE',
      EVENT_INVALID: 'EVENT_INVALID',
      PROJECTION_FAILED: 'PROJECTION_FAILED',
      DOCUMENT_TOO_LARGE: 'DOCUMENT_TOO_LARGE',
    });
  });
});

describe('error classes', () => {
  it('carry code, retriable, statusCode and cause', () => {
    const cause = new Error('socket hang up');
    const error = new UnavailableError(ERROR_CODES.KAFKA_UNAVAILABLE, 'Kafka is unreachable', { cause });
    expect(error).toBeInstanceOf(LienthongError);
    expect(error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true, statusCode: 503, cause });
    expect(error.name).toBe('UnavailableError');

    const plain = new LienthongError(ERROR_CODES.CONFLICT, 'Version already applied');
    expect(plain.retriable).toBe(false);
    expect(plain.statusCode).toBeUndefined();
    expect('cause' in plain).toBe(false);
  });

  it('ValidationError answers 400 with its issues', () => {
    const issues = [{ path: '/records/0/citizenId', code: 'pattern', message: 'must be 12 digits' }];
    const error = new ValidationError('Record is invalid', issues);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400, retriable: false, issues });
  });

  it('ConfigError names every variable in its message', () => {
    const error = new ConfigError([
      { variable: 'KAFKA_BROKERS', message: 'KAFKA_BROKERS must be a comma-separated list of host:port' },
      { variable: 'MONGODB_URI', message: 'MONGODB_URI is required' },
    ]);
    expect(error.message).toBe(
      'Invalid configuration: KAFKA_BROKERS must be a comma-separated list of host:port; MONGODB_URI is required',
    );
    expect(Object.isFrozen(error.issues)).toBe(true);
  });
});

describe('isRetriable', () => {
  it('follows the flag of lienthong errors', () => {
    expect(isRetriable(new UnavailableError(ERROR_CODES.STORE_UNAVAILABLE, 'Store is down'))).toBe(true);
    expect(isRetriable(new ValidationError('Bad', []))).toBe(false);
  });

  it('follows the retriable flag of kafkajs errors', () => {
    expect(isRetriable(new KafkaJSConnectionError('Connection error'))).toBe(true);
    expect(isRetriable(new KafkaJSNonRetriableError('Invalid topic'))).toBe(false);
    // A look-alike from another copy of kafkajs.
    expect(
      isRetriable(Object.assign(new Error('x'), { name: 'KafkaJSProtocolError', retriable: true })),
    ).toBe(true);
    expect(
      isRetriable(Object.assign(new Error('x'), { name: 'KafkaJSProtocolError', retriable: false })),
    ).toBe(false);
  });

  it('judges exhausted kafkajs retries by what was retried', () => {
    const transient = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
      retryCount: 5,
      retryTime: 1000,
    });
    expect(isRetriable(transient)).toBe(true);
    const permanent = new KafkaJSNumberOfRetriesExceeded(new KafkaJSNonRetriableError('Invalid topic'), {
      retryCount: 5,
      retryTime: 1000,
    });
    expect(isRetriable(permanent)).toBe(false);
  });

  it('treats MongoDB network and server-selection errors as retriable', () => {
    expect(isRetriable(new MongoNetworkError('connection reset'))).toBe(true);
    expect(
      isRetriable(new MongoServerSelectionError('Server selection timed out after 10000 ms', {} as never)),
    ).toBe(true);
  });

  it('reads MongoDB error labels and retryable codes', () => {
    const labelled = new MongoServerError({
      message: 'stepdown',
      code: 1,
      errorLabels: ['RetryableWriteError'],
    });
    expect(isRetriable(labelled)).toBe(true);
    const transaction = new MongoServerError({
      message: 'abort',
      errorLabels: ['TransientTransactionError'],
    });
    expect(isRetriable(transaction)).toBe(true);
    expect(isRetriable(new MongoServerError({ message: 'not primary', code: 10107 }))).toBe(true);
    const duplicate = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    expect(isRetriable(duplicate)).toBe(false);
    // A look-alike with only hasErrorLabel.
    const lookalike = Object.assign(new Error('x'), {
      name: 'MongoBulkWriteError',
      hasErrorLabel: (label: string) => label === 'RetryableWriteError',
    });
    expect(isRetriable(lookalike)).toBe(true);
  });

  it("treats a socket's own failures as retriable, as the driver sometimes rejects with them", () => {
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), {
      code: 'EPIPE',
    });
    expect(isRetriable(epipe)).toBe(true);
    expect(isRetriable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
  });

  it('looks through a wrapping error, and is false for anything else', () => {
    expect(isRetriable(new Error('wrapped', { cause: new MongoNetworkError('reset') }))).toBe(true);
    expect(isRetriable(new Error('plain'))).toBe(false);
    expect(isRetriable(new SyntaxError('Unexpected token'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
    const cyclic: Error & { cause?: unknown } = new Error('cycle');
    cyclic.cause = cyclic;
    expect(isRetriable(cyclic)).toBe(false);
  });
});

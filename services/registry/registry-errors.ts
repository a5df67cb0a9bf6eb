import { ERROR_CODES, type ErrorCode, LienthongError } from '../platform/errors';

/**
 * Confluent Schema Registry's error codes, which its clients read from `error_code`, with
 * the HTTP status each travels with. The names are lienthong's stable `code` for the same case.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#errors
 */
export const REGISTRY_ERRORS = {
  // Jackson's refusals of a body that is not JSON or not of the right shape: 400, error_code 400.
  MALFORMED_REQUEST: { errorCode: 400, status: 400, title: 'Malformed request' },
  UNAUTHORIZED: { errorCode: 40101, status: 401, title: 'Unauthorized' },
  FORBIDDEN: { errorCode: 40301, status: 403, title: 'Forbidden' },
  SUBJECT_NOT_FOUND: { errorCode: 40401, status: 404, title: 'Subject not found' },
  VERSION_NOT_FOUND: { errorCode: 40402, status: 404, title: 'Version not found' },
  SCHEMA_NOT_FOUND: { errorCode: 40403, status: 404, title: 'Schema not found' },
  SUBJECT_SOFT_DELETED: { errorCode: 40404, status: 404, title: 'Subject was soft deleted' },
  SUBJECT_NOT_SOFT_DELETED: { errorCode: 40405, status: 404, title: 'Subject was not soft deleted first' },
  VERSION_SOFT_DELETED: { errorCode: 40406, status: 404, title: 'Version was soft deleted' },
  VERSION_NOT_SOFT_DELETED: { errorCode: 40407, status: 404, title: 'Version was not soft deleted first' },
  SUBJECT_CONFIG_NOT_FOUND: {
    errorCode: 40408,
    status: 404,
    title: 'Subject has no subject-level compatibility configured',
  },
  SUBJECT_MODE_NOT_FOUND: {
    errorCode: 40409,
    status: 404,
    title: 'Subject has no subject-level mode configured',
  },
  // Jersey's answers: no such route, or a query or path parameter it cannot convert (`?offset=x`).
  ROUTE_NOT_FOUND: { errorCode: 404, status: 404, title: 'Not found' },
  PARAMETER_NOT_CONVERTIBLE: { errorCode: 404, status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { errorCode: 405, status: 405, title: 'Method not allowed' },
  // Confluent's server answered 409 in error_code too before version 8.2.
  INCOMPATIBLE_SCHEMA: { errorCode: 40901, status: 409, title: 'Incompatible schema' },
  PAYLOAD_TOO_LARGE: { errorCode: 413, status: 413, title: 'Request body too large' },
  URI_TOO_LONG: { errorCode: 414, status: 414, title: 'URI too long' },
  UNSUPPORTED_MEDIA_TYPE: { errorCode: 415, status: 415, title: 'Unsupported media type' },
  // A missing body, which Confluent's `@NotNull` refuses as a constraint violation.
  UNPROCESSABLE_REQUEST: { errorCode: 422, status: 422, title: 'Unprocessable request' },
  INVALID_SCHEMA: { errorCode: 42201, status: 422, title: 'Invalid schema' },
  INVALID_VERSION: { errorCode: 42202, status: 422, title: 'Invalid version' },
  INVALID_COMPATIBILITY_LEVEL: { errorCode: 42203, status: 422, title: 'Invalid compatibility level' },
  INVALID_MODE: { errorCode: 42204, status: 422, title: 'Invalid mode' },
  OPERATION_NOT_PERMITTED: { errorCode: 42205, status: 422, title: 'Operation not permitted' },
  INVALID_SUBJECT: { errorCode: 42208, status: 422, title: 'Invalid subject' },
  INVALID_RULESET: { errorCode: 42210, status: 422, title: 'Invalid rule set' },
  STORE_ERROR: { errorCode: 50001, status: 500, title: 'Error in the backend data store' },
  STORE_TIMEOUT: { errorCode: 50002, status: 503, title: 'The backend data store did not answer in time' },
  NOT_READY: { errorCode: 50003, status: 503, title: 'The registry is still reading its log' },
} as const;

export type RegistryErrorName = keyof typeof REGISTRY_ERRORS;

export interface FieldIssue {
  /** Where in the request: `body.schema`, `params.version`, or a path inside the schema. */
  path: string;
  message: string;
}

/** A refusal the registry answers with Confluent's `error_code` and an RFC 9457 problem. */
export class RegistryError extends LienthongError {
  override name = 'RegistryError';
  readonly errorCode: number;
  readonly issues: readonly FieldIssue[];

  constructor(
    readonly registryCode: RegistryErrorName,
    message: string,
    options: { issues?: readonly FieldIssue[]; cause?: unknown } = {},
  ) {
    const spec = REGISTRY_ERRORS[registryCode];
    super(genericCode(spec.status), message, {
      cause: options.cause,
      statusCode: spec.status,
      retriable: spec.status >= 500,
    });
    this.errorCode = spec.errorCode;
    this.issues = options.issues ?? [];
  }
}

/** The kernel's code for a status, so that logs and metrics group registry errors with the rest. */
function genericCode(status: number): ErrorCode {
  switch (status) {
    case 401:
      return ERROR_CODES.UNAUTHORIZED;
    case 403:
      return ERROR_CODES.FORBIDDEN;
    case 404:
      return ERROR_CODES.NOT_FOUND;
    case 409:
      return ERROR_CODES.CONFLICT;
    case 413:
      return ERROR_CODES.PAYLOAD_TOO_LARGE;
    case 503:
      return ERROR_CODES.KAFKA_UNAVAILABLE;
    default:
      return status >= 500 ? ERROR_CODES.INTERNAL : ERROR_CODES.VALIDATION_FAILED;
  }
}

import { RegistryError } from './registry-errors';

/**
 * Request parameters read the way Confluent's server reads them. Its resources are JAX-RS
 * methods served by Jersey, so a parameter's meaning is Jersey's:
 * - only the first of repeated values counts (`getFirst`), and unknown parameters are ignored;
 * - an absent, empty or blank value takes the default;
 * - a `boolean` is `Boolean.valueOf`: `true` in any letter case is true, anything else is false
 *   (`1`, `yes` and `False` are all false);
 * - an `int` is `Integer.valueOf`: an optional sign and decimal digits within 32 bits; anything
 *   else fails, and a query or path parameter that fails answers 404 with `error_code` 404.
 *
 * @see https://github.com/eclipse-ee4j/jersey/blob/master/core-server/src/main/java/org/glassfish/jersey/server/internal/inject/PrimitiveValueOfExtractor.java
 * @see https://jakarta.ee/specifications/restful-ws/3.1/jakarta-restful-ws-spec-3.1#method_parameters
 */
export type QueryValue = string | string[] | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

const INT_32 = /^[+-]?\d+$/;

/** The first value given for `name`, as Jersey's `getFirst`. */
export function firstValue(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A JAX-RS `boolean` query parameter. */
export function queryFlag(query: Query, name: string): boolean {
  const value = firstValue(query, name);
  return value !== undefined && value.toLowerCase() === 'true';
}

/** A JAX-RS `int` query parameter; a value that is not a 32-bit integer answers 404. */
export function queryInt(query: Query, name: string, fallback: number): number {
  const value = firstValue(query, name);
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = parseInt32(value);
  if (parsed === undefined) {
    throw new RegistryError('PARAMETER_NOT_CONVERTIBLE', 'HTTP 404 Not Found', {
      issues: [{ path: `query.${name}`, message: 'must be a 32-bit integer' }],
    });
  }
  return parsed;
}

/** A JAX-RS `Integer` path parameter, such as a schema id; a value that is not one answers 404. */
export function pathInt(text: string, name: string): number {
  const parsed = parseInt32(text);
  if (parsed === undefined) {
    throw new RegistryError('PARAMETER_NOT_CONVERTIBLE', 'HTTP 404 Not Found', {
      issues: [{ path: `params.${name}`, message: 'must be a 32-bit integer' }],
    });
  }
  return parsed;
}

/** `Integer.valueOf`: optional sign, decimal digits, within 32 bits. */
export function parseInt32(text: string): number | undefined {
  if (!INT_32.test(text)) return undefined;
  const value = Number(text);
  return value >= -2_147_483_648 && value <= 2_147_483_647 ? value : undefined;
}

/**
 * Confluent's version id: `latest` in any letter case, or an integer from 1 to 2^31-1, or -1 for
 * latest; surrounding white space is ignored. Anything else is 42202.
 *
 * @see https://github.com/confluentinc/schema-registry/blob/master/core/src/main/java/io/confluent/kafka/schemaregistry/rest/VersionId.java
 */
export function versionId(text: string): number | 'latest' {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'latest') return 'latest';
  const parsed = parseInt32(trimmed);
  if (parsed === -1) return 'latest';
  if (parsed === undefined || parsed <= 0) {
    throw new RegistryError(
      'INVALID_VERSION',
      `The specified version '${text}' is not a valid version id. ` +
        'Allowed values are between [1, 2^31-1] and the string "latest"',
      { issues: [{ path: 'params.version', message: 'must be latest or an integer from 1 to 2^31-1' }] },
    );
  }
  return parsed;
}

/**
 * Confluent's paging over a list: skip `offset`, then keep `limit` items. A limit that is not
 * positive, or above `maxLimit`, keeps `defaultLimit` items, as Confluent's `normalizeLimit` does.
 * A negative offset, which Confluent's server answers with a 500, is refused with a 400 here.
 */
export function page<T>(
  items: readonly T[],
  query: Query,
  { defaultLimit, maxLimit }: { defaultLimit: number; maxLimit: number } = UNLIMITED,
): T[] {
  const offset = queryInt(query, 'offset', 0);
  const supplied = queryInt(query, 'limit', -1);
  if (offset < 0) {
    throw new RegistryError('MALFORMED_REQUEST', 'offset must not be negative', {
      issues: [{ path: 'query.offset', message: 'must not be negative' }],
    });
  }
  const limit = supplied > 0 && supplied <= maxLimit ? supplied : defaultLimit;
  return items.slice(offset, offset + limit);
}

/** Subjects, versions and contexts are listed whole by default. */
export const UNLIMITED = { defaultLimit: Number.MAX_SAFE_INTEGER, maxLimit: 2_147_483_647 } as const;
/** Schema searches (`GET /schemas`, `referencedby`) return at most 1,000, as Confluent's defaults. */
export const SCHEMA_SEARCH = { defaultLimit: 1_000, maxLimit: 1_000 } as const;

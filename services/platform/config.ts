import { readFileSync } from 'node:fs';
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import { ConfigError, type ConfigIssue } from './errors';

/**
 * Schema keyword holding the human sentence shown when a variable is wrong, such as
 * `KAFKA_BROKERS must be a comma-separated list of host:port`. It is an annotation for
 * {@link loadConfig}; ajv only has to know it exists.
 */
export const HINT_KEYWORD = 'hint';

/**
 * Schema keyword marking a secret variable `NAME` that may instead be given as `NAME_FILE`, the
 * path of a file holding it, as the official container images read their secrets: a container
 * engine or Kubernetes mounts the secret as a file, and the value stays out of the environment
 * that `docker inspect` and `/proc/<pid>/environ` show.
 */
export const FROM_FILE_KEYWORD = 'fromFile';

/** The variable that names the file holding secret `variable` ({@link FROM_FILE_KEYWORD}). */
export function fileVariableOf(variable: string): string {
  return `${variable}_FILE`;
}

// One or more host:port, the host a name, an IPv4 address or a bracketed IPv6 address.
const BROKER = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}`;
const BROKER_LIST = String.raw`^\s*${BROKER}(?:\s*,\s*${BROKER})*\s*$`;

/** `PLAINTEXT` only for a broker without security, such as a throwaway test container. */
export const KAFKA_SECURITY_PROTOCOLS = ['SASL_SSL', 'PLAINTEXT'] as const;
export const KAFKA_SASL_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const KafkaEnv = Type.Object({
  KAFKA_BROKERS: Type.String({
    pattern: BROKER_LIST,
    hint: 'KAFKA_BROKERS must be a comma-separated list of host:port',
  }),
  KAFKA_CLIENT_ID: Type.Optional(
    Type.String({ minLength: 1, hint: 'KAFKA_CLIENT_ID must be a non-empty string' }),
  ),
  // Secure by default: a service that is not told otherwise refuses to talk to Kafka in clear text.
  KAFKA_SECURITY_PROTOCOL: Type.Union(
    KAFKA_SECURITY_PROTOCOLS.map((p) => Type.Literal(p)),
    {
      default: 'SASL_SSL',
      hint: `KAFKA_SECURITY_PROTOCOL must be one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}`,
    },
  ),
  KAFKA_SASL_MECHANISM: Type.Union(
    KAFKA_SASL_MECHANISMS.map((m) => Type.Literal(m)),
    {
      default: 'SCRAM-SHA-512',
      hint: `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
    },
  ),
  KAFKA_SASL_USERNAME: Type.Optional(
    Type.String({ minLength: 1, hint: 'KAFKA_SASL_USERNAME must name the principal' }),
  ),
  // A file, never the secret itself: environments and argv are visible to more than the process.
  KAFKA_SASL_PASSWORD_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: "KAFKA_SASL_PASSWORD_FILE must be the path of the principal's password",
    }),
  ),
  KAFKA_SSL_CA_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: "KAFKA_SSL_CA_FILE must be the path of the brokers' CA certificate (PEM)",
    }),
  ),
});
export type KafkaConfig = Static<typeof KafkaEnv>;

export const MongoEnv = Type.Object({
  // It holds the store's password: given as MONGODB_URI_FILE in a deployment.
  MONGODB_URI: Type.String({
    pattern: String.raw`^mongodb(\+srv)?://\S+$`,
    hint: 'MONGODB_URI must start with mongodb:// or mongodb+srv://',
    [FROM_FILE_KEYWORD]: true,
  }),
  MONGODB_DB: Type.String({
    // MongoDB forbids these characters in database names.
    pattern: String.raw`^[^/\\. "$*<>:|?]{1,63}$`,
    default: 'lienthong',
    hint: 'MONGODB_DB must be a database name without spaces, dots or slashes',
  }),
});

export const SchemaRegistryEnv = Type.Object({
  SCHEMA_REGISTRY_URL: Type.String({
    pattern: String.raw`^https?://[^\s/?#]+\S*$`,
    hint: 'SCHEMA_REGISTRY_URL must be an http:// or https:// URL',
  }),
});

/** The credential a service calls the schema registry with (HTTP Basic). */
export const SchemaRegistryClientEnv = Type.Object({
  SCHEMA_REGISTRY_CLIENT_ID: Type.String({
    minLength: 1,
    hint: 'SCHEMA_REGISTRY_CLIENT_ID must name a registry client',
  }),
  SCHEMA_REGISTRY_KEY: Type.String({
    minLength: 1,
    hint: 'SCHEMA_REGISTRY_KEY must be that client key',
    [FROM_FILE_KEYWORD]: true,
  }),
});

export const HttpEnv = Type.Object({
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', hint: 'HOST must be a host name or an address' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, hint: 'PORT must be an integer from 0 to 65535' }),
});

export const LogEnv = Type.Object({
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', hint: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` },
  ),
});

/** A century either way: far enough for any test, short of the limits of a JavaScript `Date`. */
const MAX_CLOCK_OFFSET_MS = 100 * 366 * 86_400_000;

/** Signed milliseconds added to the system time (`offsetClock`): tests and demos at a chosen hour. */
export const ClockEnv = Type.Object({
  LIENTHONG_CLOCK_OFFSET_MS: Type.Integer({
    minimum: -MAX_CLOCK_OFFSET_MS,
    maximum: MAX_CLOCK_OFFSET_MS,
    default: 0,
    hint: 'LIENTHONG_CLOCK_OFFSET_MS must be a whole number of milliseconds, at most a century either way',
  }),
});

/** Splits a validated `KAFKA_BROKERS` value into the list kafkajs expects. */
export function parseBrokers(s: string): string[] {
  return s
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

/**
 * Reads the variables `schema` declares from `env`, validates them all, and returns a deep-frozen
 * typed object. Variables the schema does not declare are ignored: a process environment holds
 * many. An empty variable counts as unset, so `PORT=` gets the same message as no `PORT`.
 *
 * Values are coerced (`PORT=8080` becomes a number) and defaults are applied. Every bad or
 * missing variable is reported at once, in one {@link ConfigError}, by name, using the schema's
 * `hint` when it has one and ajv's message otherwise. A secret variable ({@link FROM_FILE_KEYWORD})
 * may be given as `NAME_FILE` instead: the file's text, without its final line break, is its value.
 *
 * @see fastify's `lib/initial-config-validation.js`, which validates its options the same way
 * @throws ConfigError when any variable is missing or invalid
 */
export function loadConfig<S extends TObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Static<S>> {
  const input: Record<string, string> = {};
  const fileIssues: ConfigIssue[] = [];
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
    const fromFile = fileValue(schema.properties[key], key, env);
    if (typeof fromFile === 'string') {
      if (key in input)
        fileIssues.push({ variable: key, message: `Set ${key} or ${fileVariableOf(key)}, not both` });
      else input[key] = fromFile;
    } else if (fromFile) fileIssues.push(fromFile);
  }

  // A fresh ajv per call: config is loaded once per process, and a shared instance would be a
  // module-level singleton caching every schema it has seen.
  const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
  ajv.addKeyword({ keyword: HINT_KEYWORD, schemaType: 'string' });
  ajv.addKeyword({ keyword: FROM_FILE_KEYWORD, schemaType: 'boolean' });
  const validate = ajv.compile(schema);
  const valid = validate(input);
  if (!valid || fileIssues.length > 0) {
    const issues = valid ? [] : toIssues(schema, validate.errors ?? []);
    const named = new Set(fileIssues.map((i) => i.variable));
    const order = Object.keys(schema.properties);
    throw new ConfigError(
      [...fileIssues, ...issues.filter((i) => !named.has(i.variable))].sort(
        (a, b) => order.indexOf(a.variable) - order.indexOf(b.variable),
      ),
    );
  }
  return deepFreeze(input) as Readonly<Static<S>>;
}

/** One issue per variable, in schema order, however many ajv errors a variable produced. */
function toIssues(schema: TObject, errors: ErrorObject[]): ConfigIssue[] {
  const byVariable = new Map<string, ConfigIssue>();
  for (const error of errors) {
    const missing =
      error.keyword === 'required'
        ? (error.params as { missingProperty?: string }).missingProperty
        : undefined;
    const variable = missing ?? error.instancePath.split('/')[1] ?? '';
    if (byVariable.has(variable)) continue;
    const hint = hintOf(schema.properties[variable]);
    let message: string;
    if (missing !== undefined) {
      message = `${variable} is required`;
    } else if (hint !== undefined) {
      message = hint;
    } else {
      message = `${variable || 'configuration'} ${error.message ?? 'is invalid'}`;
    }
    byVariable.set(variable, { variable, message });
  }
  const order = Object.keys(schema.properties);
  return [...byVariable.values()].sort((a, b) => order.indexOf(a.variable) - order.indexOf(b.variable));
}

/**
 * The value of secret `variable` from the file `NAME_FILE` names: the text, or an issue when it
 * cannot be read; undefined when the variable takes no file or none is named.
 */
function fileValue(
  schema: TSchema | undefined,
  variable: string,
  env: NodeJS.ProcessEnv,
): string | ConfigIssue | undefined {
  const path = env[fileVariableOf(variable)];
  if (schema?.[FROM_FILE_KEYWORD] !== true || path === undefined || path === '') return undefined;
  try {
    // One final line break is what `echo` and most editors add; it is never part of a secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return { variable, message: `${fileVariableOf(variable)}: ${path} cannot be read (${code})` };
  }
}

function hintOf(schema: TSchema | undefined): string | undefined {
  const hint: unknown = schema?.[HINT_KEYWORD];
  return typeof hint === 'string' ? hint : undefined;
}

/**
 * The parsed JSON of a file that configures a service (policies, agreements, endpoints), read
 * once at start; `variable` names the setting that points at it, for the message of a bad one.
 *
 * @throws ConfigError when the file cannot be read or is not JSON
 */
export function readJsonConfigFile(path: string, variable: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([{ variable, message: `${path} cannot be read as JSON` }], { cause: err });
  }
}

/** `value`, frozen with everything it holds: configuration read once and never changed. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

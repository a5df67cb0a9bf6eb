/**
 * How a client proves who it is to Kafka and checks that the broker is the real one: the one
 * place that turns the `KAFKA_SECURITY_PROTOCOL` / `KAFKA_SASL_*` / `KAFKA_SSL_CA_FILE`
 * configuration into kafkajs's `ssl` and `sasl` options.
 */
import { readFileSync } from 'node:fs';
import { type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import { type KafkaConfig, type KAFKA_SASL_MECHANISMS, parseBrokers } from './config';
import { ConfigError, type ConfigIssue } from './errors';

export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** What a client needs to reach a broker: nothing more, or TLS plus a SCRAM principal. */
export type KafkaSecurity =
  | { protocol: 'PLAINTEXT' }
  | {
      protocol: 'SASL_SSL';
      mechanism: KafkaSaslMechanism;
      username: string;
      password: string;
      /** The PEM CA the broker's certificate must chain to; the system's CAs when absent. */
      ca?: string;
    };

/**
 * The security settings of a validated Kafka config, with the password and CA read from their
 * files. Every missing or unreadable setting is reported at once, by variable, as
 * `loadConfig` does for the others.
 *
 * @throws ConfigError naming each variable that is missing or whose file cannot be read
 */
export function kafkaSecurityFrom(
  config: Readonly<KafkaConfig>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): KafkaSecurity {
  if (config.KAFKA_SECURITY_PROTOCOL === 'PLAINTEXT') return { protocol: 'PLAINTEXT' };
  const issues: ConfigIssue[] = [];
  const read = (variable: string, path: string | undefined, what: string): string | undefined => {
    if (path === undefined) {
      issues.push({ variable, message: `${variable} is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL` });
      return undefined;
    }
    try {
      const text = readFile(path);
      if (text.trim().length > 0) return text;
      issues.push({ variable, message: `${variable} names an empty file: ${path}` });
    } catch (error) {
      issues.push({
        variable,
        message: `${variable} names ${what} that cannot be read: ${path} (${(error as Error).message})`,
      });
    }
    return undefined;
  };
  if (config.KAFKA_SASL_USERNAME === undefined)
    issues.push({
      variable: 'KAFKA_SASL_USERNAME',
      message: 'KAFKA_SASL_USERNAME is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
    });
  const password = read('KAFKA_SASL_PASSWORD_FILE', config.KAFKA_SASL_PASSWORD_FILE, 'a password file');
  const ca =
    config.KAFKA_SSL_CA_FILE === undefined
      ? undefined
      : read('KAFKA_SSL_CA_FILE', config.KAFKA_SSL_CA_FILE, 'a CA certificate');
  if (issues.length > 0 || password === undefined || config.KAFKA_SASL_USERNAME === undefined)
    throw new ConfigError(issues);
  return {
    protocol: 'SASL_SSL',
    mechanism: config.KAFKA_SASL_MECHANISM,
    username: config.KAFKA_SASL_USERNAME,
    // A trailing newline is how editors save a file, never part of a generated password.
    password: password.replace(/\r?\n$/, ''),
    ...(ca === undefined ? {} : { ca }),
  };
}

/** The brokers and security of a validated Kafka config: what {@link createKafka} needs besides names. */
export function kafkaConnection(config: Readonly<KafkaConfig>): {
  brokers: string[];
  security: KafkaSecurity;
} {
  return { brokers: parseBrokers(config.KAFKA_BROKERS), security: kafkaSecurityFrom(config) };
}

/**
 * kafkajs's `ssl` and `sasl` options. TLS verifies the broker's certificate and host name (Node's
 * defaults, never turned off); kafkajs authenticates every connection it opens with SCRAM.
 *
 * @see https://kafka.js.org/docs/configuration#ssl
 * @see https://kafka.apache.org/documentation/#security_sasl_scram
 */
export function kafkajsSecurityOptions(security: KafkaSecurity): Pick<KafkaJsConfig, 'ssl' | 'sasl'> {
  if (security.protocol === 'PLAINTEXT') return {};
  const sasl: SASLOptions =
    security.mechanism === 'SCRAM-SHA-512'
      ? { mechanism: 'scram-sha-512', username: security.username, password: security.password }
      : { mechanism: 'scram-sha-256', username: security.username, password: security.password };
  return {
    ssl: security.ca === undefined ? true : { ca: [security.ca], rejectUnauthorized: true },
    sasl,
  };
}

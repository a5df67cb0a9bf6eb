import {
  type KafkaConfig,
  KafkaEnv,
  kafkajsSecurityOptions,
  kafkaSecurityFrom,
  loadConfig,
} from '../../../services/platform';
import { configError } from '../../support/config-error';

const files: Record<string, string> = {
  '/secrets/tax.password': 'pa55-word\n',
  '/secrets/empty.password': '\n',
  '/tls/ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return text;
};
const config = (env: Record<string, string>): Readonly<KafkaConfig> =>
  loadConfig(KafkaEnv, { KAFKA_BROKERS: '127.0.0.1:9092', ...env });

describe('the Kafka security configuration', () => {
  it('is SASL_SSL with SCRAM-SHA-512 unless told otherwise', () => {
    const parsed = config({});
    expect(parsed.KAFKA_SECURITY_PROTOCOL).toBe('SASL_SSL');
    expect(parsed.KAFKA_SASL_MECHANISM).toBe('SCRAM-SHA-512');
  });

  it('reads the password and the CA from their files, never from the environment', () => {
    const security = kafkaSecurityFrom(
      config({
        KAFKA_SASL_USERNAME: 'tax',
        KAFKA_SASL_PASSWORD_FILE: '/secrets/tax.password',
        KAFKA_SSL_CA_FILE: '/tls/ca.crt',
      }),
      readFile,
    );
    expect(security).toEqual({
      protocol: 'SASL_SSL',
      mechanism: 'SCRAM-SHA-512',
      username: 'tax',
      password: 'pa55-word',
      ca: files['/tls/ca.crt'],
    });
    expect(kafkajsSecurityOptions(security)).toEqual({
      ssl: { ca: [files['/tls/ca.crt']], rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'tax', password: 'pa55-word' },
    });
  });

  it("trusts the system's CAs when no CA file is given", () => {
    const security = kafkaSecurityFrom(
      config({ KAFKA_SASL_USERNAME: 'tax', KAFKA_SASL_PASSWORD_FILE: '/secrets/tax.password' }),
      readFile,
    );
    expect(kafkajsSecurityOptions(security).ssl).toBe(true);
  });

  it('names every missing or unreadable setting at once, by variable', () => {
    const error = configError(() =>
      kafkaSecurityFrom(config({ KAFKA_SSL_CA_FILE: '/tls/missing.crt' }), readFile),
    );
    expect(error.issues.map((i) => i.variable)).toEqual([
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD_FILE',
      'KAFKA_SSL_CA_FILE',
    ]);
    expect(error.message).toMatch(
      /KAFKA_SSL_CA_FILE names a CA certificate that cannot be read: \/tls\/missing.crt/,
    );
  });

  it('refuses an empty password file', () => {
    const error = configError(() =>
      kafkaSecurityFrom(
        config({ KAFKA_SASL_USERNAME: 'tax', KAFKA_SASL_PASSWORD_FILE: '/secrets/empty.password' }),
        readFile,
      ),
    );
    expect(error.issues).toEqual([
      {
        variable: 'KAFKA_SASL_PASSWORD_FILE',
        message: 'KAFKA_SASL_PASSWORD_FILE names an empty file: /secrets/empty.password',
      },
    ]);
  });

  it.each([
    ['KAFKA_SECURITY_PROTOCOL', 'SSL', 'KAFKA_SECURITY_PROTOCOL must be one of SASL_SSL, PLAINTEXT'],
    ['KAFKA_SASL_MECHANISM', 'PLAIN', 'KAFKA_SASL_MECHANISM must be one of SCRAM-SHA-512, SCRAM-SHA-256'],
  ])('refuses %s=%s', (variable, value, message) => {
    const error = configError(() => config({ [variable]: value }));
    expect(error.issues).toEqual([{ variable, message }]);
  });

  it('asks nothing more of a PLAINTEXT client, and gives kafkajs no TLS or SASL', () => {
    const security = kafkaSecurityFrom(config({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' }), readFile);
    expect(security).toEqual({ protocol: 'PLAINTEXT' });
    expect(kafkajsSecurityOptions(security)).toEqual({});
  });
});

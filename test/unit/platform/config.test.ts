import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import {
  ERROR_CODES,
  HttpEnv,
  KafkaEnv,
  LogEnv,
  loadConfig,
  MongoEnv,
  parseBrokers,
  SchemaRegistryClientEnv,
  SchemaRegistryEnv,
} from '../../../services/platform';
import { configError } from '../../support/config-error';
import { scratchDir } from '../../support/fixtures';

const ServiceEnv = Type.Composite([KafkaEnv, MongoEnv, SchemaRegistryEnv, HttpEnv, LogEnv]);

const valid = {
  KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  PORT: '8080',
};

describe('loadConfig', () => {
  it('names every bad or missing variable in one error', () => {
    const error = configError(() =>
      loadConfig(ServiceEnv, { KAFKA_BROKERS: 'nonsense', PORT: 'eighty', LOG_LEVEL: 'loud', HOST: '' }),
    );
    expect(error.code).toBe(ERROR_CODES.CONFIG_INVALID);
    expect(error.issues.map((issue) => issue.variable)).toEqual([
      'KAFKA_BROKERS',
      'MONGODB_URI',
      'SCHEMA_REGISTRY_URL',
      'PORT',
      'LOG_LEVEL',
    ]);
    expect(error.message).toBe(
      'Invalid configuration: KAFKA_BROKERS must be a comma-separated list of host:port; ' +
        'MONGODB_URI is required; SCHEMA_REGISTRY_URL is required; PORT must be an integer from 0 to 65535; ' +
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(error.message).not.toMatch(/\n/);
  });

  it.each(['nonsense', 'kafka:', ':9092', 'kafka:9092,', 'kafka:9092;other:9092', 'http://kafka:9092'])(
    'rejects KAFKA_BROKERS=%s',
    (brokers) => {
      const error = configError(() => loadConfig(KafkaEnv, { KAFKA_BROKERS: brokers }));
      expect(error.issues).toEqual([
        { variable: 'KAFKA_BROKERS', message: 'KAFKA_BROKERS must be a comma-separated list of host:port' },
      ]);
    },
  );

  it('rejects a MongoDB URI with another scheme, and a registry URL that is not http(s)', () => {
    const error = configError(() =>
      loadConfig(Type.Composite([MongoEnv, SchemaRegistryEnv]), {
        MONGODB_URI: 'postgres://db/lienthong',
        SCHEMA_REGISTRY_URL: 'ftp://registry',
      }),
    );
    expect(error.issues.map((issue) => issue.message)).toEqual([
      'MONGODB_URI must start with mongodb:// or mongodb+srv://',
      'SCHEMA_REGISTRY_URL must be an http:// or https:// URL',
    ]);
  });

  it('applies defaults, coerces PORT and ignores variables the schema does not declare', () => {
    const config = loadConfig(ServiceEnv, { ...valid, PATH: '/usr/bin', UNRELATED: 'x' });
    expect(config).toEqual({
      KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
      // Secure by default.
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      MONGODB_URI: 'mongodb://127.0.0.1:27017/',
      MONGODB_DB: 'lienthong',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      HOST: '127.0.0.1',
      PORT: 8080,
      LOG_LEVEL: 'info',
    });
    expect(typeof config.PORT).toBe('number');
  });

  it('accepts mongodb+srv, IPv6 brokers and spaces after commas', () => {
    const config = loadConfig(Type.Composite([KafkaEnv, MongoEnv]), {
      KAFKA_BROKERS: 'kafka-1:9092, [::1]:9093',
      MONGODB_URI: 'mongodb+srv://cluster.example.vn/',
      KAFKA_CLIENT_ID: 'connector-tax',
    });
    expect(parseBrokers(config.KAFKA_BROKERS)).toEqual(['kafka-1:9092', '[::1]:9093']);
    expect(config.KAFKA_CLIENT_ID).toBe('connector-tax');
  });

  it('rejects a PORT out of range or not whole', () => {
    for (const port of ['65536', '-1', '80.5']) {
      const error = configError(() => loadConfig(HttpEnv, { PORT: port }));
      expect(error.issues).toEqual([
        { variable: 'PORT', message: 'PORT must be an integer from 0 to 65535' },
      ]);
    }
  });

  it('falls back to the validator message for a variable without a hint', () => {
    const error = configError(() =>
      loadConfig(Type.Object({ BATCH_SIZE: Type.Integer({ minimum: 1 }) }), { BATCH_SIZE: '0' }),
    );
    expect(error.message).toBe('Invalid configuration: BATCH_SIZE must be >= 1');
  });

  it('returns a deeply frozen object and does not touch the environment', () => {
    const env = { ...valid };
    const config = loadConfig(Type.Composite([HttpEnv, LogEnv]), env);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(env.PORT).toBe('8080');
    expect(env).not.toHaveProperty('HOST');
  });

  it('treats an empty variable as unset, so its default applies', () => {
    const config = loadConfig(Type.Composite([HttpEnv, LogEnv]), { PORT: '0', LOG_LEVEL: '', HOST: '' });
    expect(config).toEqual({ PORT: 0, LOG_LEVEL: 'info', HOST: '127.0.0.1' });
  });
});

describe('a secret given as a file (NAME_FILE)', () => {
  const scratch = scratchDir('config-file');
  afterAll(() => scratch.remove());
  const Env = Type.Composite([MongoEnv, SchemaRegistryClientEnv]);

  it('reads the value from the file, without its final line break', () => {
    const uri = join(scratch.path, 'uri');
    const key = join(scratch.path, 'key');
    writeFileSync(uri, 'mongodb://bus:s3cret@mongodb:27017/?replicaSet=rs0\n');
    writeFileSync(key, 'k3y');
    const config = loadConfig(Env, {
      MONGODB_URI_FILE: uri,
      SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
      SCHEMA_REGISTRY_KEY_FILE: key,
    });
    expect(config.MONGODB_URI).toBe('mongodb://bus:s3cret@mongodb:27017/?replicaSet=rs0');
    expect(config.SCHEMA_REGISTRY_KEY).toBe('k3y');
    expect(config).not.toHaveProperty('MONGODB_URI_FILE');
  });

  it('refuses both spellings at once, and names a file it cannot read', () => {
    const uri = join(scratch.path, 'uri2');
    writeFileSync(uri, 'mongodb://a/');
    const error = configError(() =>
      loadConfig(Env, {
        MONGODB_URI: 'mongodb://b/',
        MONGODB_URI_FILE: uri,
        SCHEMA_REGISTRY_CLIENT_ID: 'x',
        SCHEMA_REGISTRY_KEY_FILE: join(scratch.path, 'absent'),
      }),
    );
    expect(error.issues.map((i) => i.variable)).toEqual(['MONGODB_URI', 'SCHEMA_REGISTRY_KEY']);
    expect(error.issues[0]?.message).toBe('Set MONGODB_URI or MONGODB_URI_FILE, not both');
    expect(error.issues[1]?.message).toContain('SCHEMA_REGISTRY_KEY_FILE');
    expect(error.issues[1]?.message).toContain('ENOENT');
  });

  it('takes no file for a variable that is not secret', () => {
    const url = join(scratch.path, 'url');
    writeFileSync(url, 'http://registry:8081');
    const error = configError(() => loadConfig(SchemaRegistryEnv, { SCHEMA_REGISTRY_URL_FILE: url }));
    expect(error.message).toContain('SCHEMA_REGISTRY_URL is required');
  });
});

describe('parseBrokers', () => {
  it('splits, trims and drops empty entries', () => {
    expect(parseBrokers(' a:1 ,b:2,, c:3 ')).toEqual(['a:1', 'b:2', 'c:3']);
  });
});

import { connectorConfig } from '../../../../connectors/runtime/config';
import { IMPORT_RETENTION_MS } from '../../../../connectors/runtime/imports';
import { configError } from '../../../support/config-error';

describe("a connector's configuration", () => {
  const env = {
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
    SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
    SCHEMA_REGISTRY_KEY: 'key',
    CONNECTOR_API_KEYS_FILE: '/etc/lienthong/keys.json',
  };

  it('keeps the spool files of ended imports a week unless told otherwise', () => {
    expect(connectorConfig(8092, '/spool', env).CONNECTOR_IMPORT_RETENTION_MS).toBe(IMPORT_RETENTION_MS);
    expect(IMPORT_RETENTION_MS).toBe(7 * 86_400_000);
    expect(connectorConfig(8092, '/spool', { ...env, CONNECTOR_IMPORT_RETENTION_MS: '0' })).toMatchObject({
      CONNECTOR_IMPORT_RETENTION_MS: 0,
    });
  });

  it.each(['-1', '1.5', 'a week', String(367 * 86_400_000)])(
    'refuses a retention of %s, by name',
    (value) => {
      expect(
        configError(() => connectorConfig(8092, '/spool', { ...env, CONNECTOR_IMPORT_RETENTION_MS: value }))
          .issues,
      ).toEqual([
        {
          variable: 'CONNECTOR_IMPORT_RETENTION_MS',
          message: 'CONNECTOR_IMPORT_RETENTION_MS must be a whole number of milliseconds, at most a year',
        },
      ]);
    },
  );
});

import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_PLAINTEXT_LISTENER,
  brokerSecurityFiles,
  brokerSecurityProperties,
  ensureBrokerSecurity,
  LOCAL_BROKER_HOSTS,
  passwordFileOf,
  principalSecurityEnv,
  scramFormatArguments,
  subjectAltName,
  writeArgfile,
} from '../../../../deploy/local/broker-security';
import { scratchDir } from '../../../support/fixtures';

describe("the local broker's security", () => {
  const scratch = scratchDir('broker-security');
  const files = brokerSecurityFiles(scratch.path);
  beforeAll(() => {
    mkdirSync(files.secretsDir, { recursive: true });
    for (const principal of ['broker', 'operator', 'tax']) {
      writeFileSync(passwordFileOf(files.secretsDir, principal), `${principal}-secret`);
    }
  });
  afterAll(() => scratch.remove());

  it('makes the node certificate for the host names given, and again when they change, under the same CA', () => {
    const dir = join(scratch.path, 'hosts');
    const made = ensureBrokerSecurity(dir, ['tax'], () => undefined, process.env, ['kafka', '10.0.0.7']);
    const first = new X509Certificate(readFileSync(made.keystoreFile, 'utf8'));
    expect(first.subjectAltName).toBe('DNS:kafka, IP Address:10.0.0.7');
    const ca = readFileSync(made.caFile, 'utf8');
    ensureBrokerSecurity(dir, ['tax'], () => undefined, process.env, ['kafka', '10.0.0.7']);
    expect(new X509Certificate(readFileSync(made.keystoreFile, 'utf8')).serialNumber).toBe(
      first.serialNumber,
    );
    ensureBrokerSecurity(dir, ['tax'], () => undefined);
    const local = new X509Certificate(readFileSync(made.keystoreFile, 'utf8'));
    expect(local.subjectAltName).toBe(`IP Address:127.0.0.1, DNS:localhost`);
    expect(local.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(subjectAltName(LOCAL_BROKER_HOSTS)).toBe('IP:127.0.0.1,DNS:localhost');
  });

  it('reads the key store and the CA where a container mounts them, when told', () => {
    const lines = brokerSecurityProperties(files, 'CONTROLLER', undefined, {
      keystoreFile: '/run/secrets/kafka-node',
      caFile: '/run/secrets/kafka-ca',
    });
    expect(lines).toContain('ssl.keystore.location=/run/secrets/kafka-node');
    expect(lines).toContain('ssl.truststore.location=/run/secrets/kafka-ca');
  });

  it('has no PLAINTEXT listener, mutual TLS on the controller listener, and denies what no ACL allows', () => {
    const lines = brokerSecurityProperties(files, 'CONTROLLER');
    expect(lines).toContain('listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL');
    expect(lines.join('\n')).not.toMatch(/PLAINTEXT/);
    expect(lines).toContain('listener.name.controller.ssl.client.auth=required');
    expect(lines).toContain('sasl.enabled.mechanisms=SCRAM-SHA-512');
    expect(lines).toContain('authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(lines).toContain('allow.everyone.if.no.acl.found=false');
    expect(lines).toContain('super.users=User:operator;User:broker');
  });

  it("maps the benchmark's listener to PLAINTEXT only when asked, under the same authorizer", () => {
    const secured = brokerSecurityProperties(files, 'CONTROLLER');
    const bench = brokerSecurityProperties(files, 'CONTROLLER', BENCH_PLAINTEXT_LISTENER);
    expect(bench).toContain(
      'listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL,BENCH_PLAINTEXT:PLAINTEXT',
    );
    // Only the map differs: inter-broker traffic, the authorizer and the super users stay as they are.
    expect(bench.filter((line) => !secured.includes(line))).toHaveLength(1);
    expect(bench).toContain('inter.broker.listener.name=SASL_SSL');
    expect(bench).toContain('allow.everyone.if.no.acl.found=false');
  });

  it('adds every principal and the broker at format time, through an argument file', () => {
    const args = scramFormatArguments(files, ['operator', 'tax']);
    expect(args).toEqual([
      '--add-scram',
      'SCRAM-SHA-512=[name=operator,password=operator-secret]',
      '--add-scram',
      'SCRAM-SHA-512=[name=tax,password=tax-secret]',
      '--add-scram',
      'SCRAM-SHA-512=[name=broker,password=broker-secret]',
    ]);
    const argfile = join(scratch.path, 'format.args');
    writeArgfile(argfile, ['kafka.tools.StorageTool', ...args.slice(0, 2)]);
    expect(readFileSync(argfile, 'utf8')).toBe(
      "'kafka.tools.StorageTool'\n'--add-scram'\n'SCRAM-SHA-512=[name=operator,password=operator-secret]'\n",
    );
  });

  it('gives each principal its own password file from a secrets directory, and a PLAINTEXT client nothing', () => {
    const given = {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_USERNAME: 'operator',
      KAFKA_SASL_PASSWORD_FILE: '/s/operator.password',
      KAFKA_SSL_CA_FILE: '/s/ca.crt',
    };
    expect(principalSecurityEnv({ ...given, LIENTHONG_KAFKA_SECRETS_DIR: '/s' }, 'tax')).toEqual({
      ...given,
      KAFKA_SASL_USERNAME: 'tax',
      KAFKA_SASL_PASSWORD_FILE: '/s/tax.password',
    });
    // Without a secrets directory, the given identity serves every principal.
    expect(principalSecurityEnv(given, 'tax')).toEqual(given);
    expect(
      principalSecurityEnv(
        { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', LIENTHONG_KAFKA_SECRETS_DIR: '/s' },
        'tax',
      ),
    ).toEqual({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' });
  });
});

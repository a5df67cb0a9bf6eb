import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  brokerSecurityFiles,
  brokerSecurityProperties,
  passwordFileOf,
  principalSecurityEnv,
  scramFormatArguments,
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

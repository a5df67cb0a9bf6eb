/**
 * The local broker's security: a CA and the node certificate made with `openssl` on first start,
 * one random password per principal, the listener, SASL, TLS and authorizer lines of
 * `server.properties`, and the SCRAM credentials written into the metadata log at format time.
 * Everything lives in one directory (mode 0700) under the state directory; secrets are 0600.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { type Progress } from './provision';

/** The nodes' own identity: inter-broker SCRAM user, and the CN of the certificate controllers trust. */
export const BROKER_PRINCIPAL = 'broker';

/** The client listener's name; it speaks SASL_SSL and nothing else. */
export const CLIENT_LISTENER = 'SASL_SSL';

/** SCRAM-SHA-512 only: the strongest mechanism every client of the bus (kafkajs, librdkafka, Java) speaks. */
export const SCRAM_MECHANISM = 'SCRAM-SHA-512';

/**
 * A new EC P-256 key, unencrypted (written as PKCS#8 by openssl 3): cheaper handshakes than RSA,
 * and read by Java, librdkafka and Node alike.
 */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'] as const;

/** Where the security material of a local stack lives. */
export interface BrokerSecurityFiles {
  dir: string;
  /** The CA certificate clients verify the broker with (PEM). */
  caFile: string;
  /** The node's PKCS#8 key, its certificate and the CA, for `ssl.keystore.type=PEM`. */
  keystoreFile: string;
  secretsDir: string;
}

/** The paths of the security material in `dir`, made or not. */
export function brokerSecurityFiles(dir: string): BrokerSecurityFiles {
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    keystoreFile: join(dir, 'node.pem'),
    secretsDir: join(dir, 'secrets'),
  };
}

/** The file holding `principal`'s password: what `KAFKA_SASL_PASSWORD_FILE` names. */
export function passwordFileOf(secretsDir: string, principal: string): string {
  return join(secretsDir, `${principal}.password`);
}

/**
 * Makes what is missing: the CA, the node certificate signed by it, and a password for each
 * principal (and the broker's own). Existing material is kept, so clients keep trusting the CA and
 * services keep their passwords across restarts.
 */
export function ensureBrokerSecurity(
  dir: string,
  principals: readonly string[],
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
): BrokerSecurityFiles {
  const files = brokerSecurityFiles(dir);
  mkdirSync(files.secretsDir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  chmodSync(files.secretsDir, 0o700);
  const caKey = join(dir, 'ca.key');
  if (!existsSync(files.caFile) || !existsSync(caKey)) {
    progress(`kafka: making a certificate authority in ${dir}`);
    openssl(env, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      caKey,
      '-out',
      files.caFile,
      '-days',
      '3650',
      '-subj',
      '/CN=lienthong local Kafka CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    chmodSync(caKey, 0o600);
    rmSync(files.keystoreFile, { force: true });
  }
  if (!existsSync(files.keystoreFile)) {
    progress('kafka: making the node certificate (127.0.0.1, localhost)');
    const key = join(dir, 'node.key');
    const csr = join(dir, 'node.csr');
    const cert = join(dir, 'node.crt');
    const ext = join(dir, 'node.ext');
    // Clients verify the host name (librdkafka and Node do by default): both spellings of this host.
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        // serverAuth for its listeners, clientAuth for the controller listener's mutual TLS.
        'extendedKeyUsage=serverAuth,clientAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    openssl(env, [
      'req',
      '-new',
      ...NEW_KEY,
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${BROKER_PRINCIPAL}`,
    ]);
    openssl(env, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      files.caFile,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '825',
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
    // Kafka's PEM key store: an unencrypted PKCS#8 key (what openssl 3 writes) then the chain.
    writeFileSync(
      files.keystoreFile,
      [key, cert, files.caFile].map((f) => readFileSync(f, 'utf8').trim()).join('\n') + '\n',
      { mode: 0o600 },
    );
    for (const f of [key, csr, ext]) rmSync(f, { force: true });
  }
  for (const principal of new Set([...principals, BROKER_PRINCIPAL])) {
    const file = passwordFileOf(files.secretsDir, principal);
    // base64url: no character that SCRAM's or the JAAS and argfile syntaxes would need to escape.
    if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  return files;
}

/** `principal`'s password, for the lines that must hold it (the broker's JAAS entry, the format). */
export function readPassword(files: BrokerSecurityFiles, principal: string): string {
  return readFileSync(passwordFileOf(files.secretsDir, principal), 'utf8').trim();
}

/**
 * The `server.properties` lines of a secured node, beside its `listeners`:
 * - clients (and brokers, as `User:broker`) on the SASL_SSL listener with SCRAM-SHA-512;
 * - the controller listener on TLS with client certificates required: KRaft cannot check SCRAM
 *   there (the credentials live in the metadata log the controllers serve), and the node
 *   certificate, mapped to `User:broker`, needs no second secret;
 * - the StandardAuthorizer, denying all that no ACL allows, with the operator and the nodes as
 *   super users.
 *
 * @see https://kafka.apache.org/documentation/#security_sasl_scram
 * @see https://kafka.apache.org/documentation/#kraft_principal_forwarding
 */
export function brokerSecurityProperties(files: BrokerSecurityFiles, controllerListener: string): string[] {
  const password = readPassword(files, BROKER_PRINCIPAL);
  const client = CLIENT_LISTENER.toLowerCase();
  return [
    `listener.security.protocol.map=${controllerListener}:SSL,${CLIENT_LISTENER}:SASL_SSL`,
    `inter.broker.listener.name=${CLIENT_LISTENER}`,
    `sasl.enabled.mechanisms=${SCRAM_MECHANISM}`,
    `sasl.mechanism.inter.broker.protocol=${SCRAM_MECHANISM}`,
    `listener.name.${client}.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config=` +
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_PRINCIPAL}" password="${password}";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${files.keystoreFile}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${files.caFile}`,
    `listener.name.${controllerListener.toLowerCase()}.ssl.client.auth=required`,
    // CN=broker becomes User:broker; any other subject keeps its full name and gets nothing.
    'ssl.principal.mapping.rules=RULE:^CN=([a-z-]+)$/$1/,DEFAULT',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${OPERATOR_PRINCIPAL};User:${BROKER_PRINCIPAL}`,
  ];
}

/**
 * `kafka-storage format` arguments that write each principal's SCRAM credential into the new
 * metadata log (KIP-900). They carry passwords: pass them through {@link writeArgfile}, never argv.
 *
 * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-900%3A+KRaft+kafka-storage.sh+API+additions+to+support+SCRAM+for+Kafka+Brokers
 */
export function scramFormatArguments(files: BrokerSecurityFiles, principals: readonly string[]): string[] {
  return [...new Set([...principals, BROKER_PRINCIPAL])].flatMap((principal) => [
    '--add-scram',
    `${SCRAM_MECHANISM}=[name=${principal},password=${readPassword(files, principal)}]`,
  ]);
}

/**
 * A Java launcher argument file (`java @file`), mode 0600: the main class and arguments that
 * hold secrets stay out of the process table. Each argument is single-quoted on its own line.
 */
export function writeArgfile(path: string, args: readonly string[]): void {
  writeFileSync(path, args.map((a) => `'${a.replace(/\\/g, '\\\\')}'`).join('\n') + '\n', { mode: 0o600 });
}

/** A Java client's properties for `principal` (the admin tools' `--command-config`). */
export function javaClientProperties(files: BrokerSecurityFiles, principal: string): string {
  return [
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${SCRAM_MECHANISM}`,
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${principal}" password="${readPassword(files, principal)}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${files.caFile}`,
    '',
  ].join('\n');
}

/** The variables a service or a tool connects as `principal` with (beside `KAFKA_BROKERS`). */
export function clientSecurityEnv(files: BrokerSecurityFiles, principal: string): Record<string, string> {
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: SCRAM_MECHANISM,
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD_FILE: passwordFileOf(files.secretsDir, principal),
    KAFKA_SSL_CA_FILE: files.caFile,
  };
}

/** The variables that say how a client reaches Kafka, beside `KAFKA_BROKERS`. */
export const KAFKA_SECURITY_VARIABLES = [
  'KAFKA_SECURITY_PROTOCOL',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD_FILE',
  'KAFKA_SSL_CA_FILE',
] as const;

/**
 * The security variables `env` gives, as `principal`: when `LIENTHONG_KAFKA_SECRETS_DIR` names a
 * directory of `<principal>.password` files (the local stack's, or one an operator laid out the
 * same way), the principal's own; otherwise the given identity, for every principal alike.
 */
export function principalSecurityEnv(env: NodeJS.ProcessEnv, principal: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KAFKA_SECURITY_VARIABLES) {
    const value = env[name];
    if (value) out[name] = value;
  }
  const secrets = env.LIENTHONG_KAFKA_SECRETS_DIR;
  if (secrets && out.KAFKA_SECURITY_PROTOCOL !== 'PLAINTEXT') {
    out.KAFKA_SASL_USERNAME = principal;
    out.KAFKA_SASL_PASSWORD_FILE = passwordFileOf(secrets, principal);
  }
  return out;
}

function openssl(env: NodeJS.ProcessEnv, args: string[]): void {
  const run = spawnSync('openssl', args, { env, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new Error(
      "'openssl' was not found on PATH: the local stack needs it to make the broker's certificates",
    );
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.trim()}`);
}

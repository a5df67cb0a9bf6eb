/**
 * A broker's security: a CA and the node certificate made with `openssl` on first start, one
 * random password per principal, the listener, SASL, TLS and authorizer lines of
 * `server.properties`, and the SCRAM credentials written into the metadata log at format time.
 * Everything lives in one directory (mode 0700); secrets are 0600. The local stack keeps it under
 * its state directory, for `127.0.0.1`; `deploy/compose`'s setup makes it for the `kafka` container.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { type Progress } from './provision';

/** The nodes' own identity: inter-broker SCRAM user, and the CN of the certificate controllers trust. */
export const BROKER_PRINCIPAL = 'broker';

/** The client listener's name; it speaks SASL_SSL and nothing else. */
export const CLIENT_LISTENER = 'SASL_SSL';

/**
 * A PLAINTEXT listener for `npm run bench:security` only, which measures what SASL_SSL costs
 * against it on the same broker. Nothing else sets it: not the stack manager, `npm start` or tests.
 */
export const BENCH_PLAINTEXT_LISTENER = 'BENCH_PLAINTEXT';

/** SCRAM-SHA-512 only: the strongest mechanism every client of the bus (kafkajs, librdkafka, Java) speaks. */
export const SCRAM_MECHANISM = 'SCRAM-SHA-512';

/**
 * A new EC P-256 key, unencrypted (written as PKCS#8 by openssl 3): cheaper handshakes than RSA,
 * and read by Java, librdkafka and Node alike.
 */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'] as const;

/** The names the local broker is reached by: the node certificate's subject alternative names. */
export const LOCAL_BROKER_HOSTS: readonly string[] = ['127.0.0.1', 'localhost'];

/** Where the security material of a local stack lives. */
export interface BrokerSecurityFiles {
  dir: string;
  /** The CA certificate clients verify the broker with (PEM). */
  caFile: string;
  /** The node's PKCS#8 key, its certificate and the CA, for `ssl.keystore.type=PEM`. */
  keystoreFile: string;
  secretsDir: string;
}

/**
 * Where a broker or a client reads the CA and the key store: the files' own paths, or where a
 * container mounts them.
 */
export type BrokerSecurityPaths = Pick<BrokerSecurityFiles, 'caFile' | 'keystoreFile'>;

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

/** `subjectAltName` of the node certificate: an `IP:` entry for an address, `DNS:` for a name. */
export function subjectAltName(hosts: readonly string[]): string {
  if (hosts.length === 0) throw new Error('the node certificate needs at least one host name');
  return hosts.map((host) => `${isIP(host) === 0 ? 'DNS' : 'IP'}:${host}`).join(',');
}

/**
 * Makes what is missing: the CA, the node certificate signed by it for `hosts` (the names clients
 * reach the broker by, which they check), and a password for each principal (and the broker's
 * own). Existing material is kept, so clients keep trusting the CA and services keep their
 * passwords across restarts; the node certificate is made again when `hosts` changed.
 */
export function ensureBrokerSecurity(
  dir: string,
  principals: readonly string[],
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
  hosts: readonly string[] = LOCAL_BROKER_HOSTS,
): BrokerSecurityFiles {
  const san = subjectAltName(hosts);
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
  // The names the certificate was made for, beside it; none recorded is the local stack's first.
  const sanFile = join(dir, 'node.san');
  const madeFor = existsSync(sanFile)
    ? readFileSync(sanFile, 'utf8').trim()
    : subjectAltName(LOCAL_BROKER_HOSTS);
  if (madeFor !== san) rmSync(files.keystoreFile, { force: true });
  if (!existsSync(files.keystoreFile)) {
    progress(`kafka: making the node certificate (${hosts.join(', ')})`);
    const key = join(dir, 'node.key');
    const csr = join(dir, 'node.csr');
    const cert = join(dir, 'node.crt');
    const ext = join(dir, 'node.ext');
    // Clients verify the host name (librdkafka and Node do by default): every name they use.
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        // serverAuth for its listeners, clientAuth for the controller listener's mutual TLS.
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${san}`,
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
    writeFileSync(sanFile, `${san}\n`);
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
 *   super users;
 * - with `benchListener`, that listener in PLAINTEXT: {@link BENCH_PLAINTEXT_LISTENER}, for the
 *   security benchmark only. Its clients are `User:ANONYMOUS`, refused whatever no ACL grants.
 *
 * `at` says where the broker reads the key store and the CA, when not at their own paths (in a
 * container, where they are mounted).
 *
 * @see https://kafka.apache.org/documentation/#security_sasl_scram
 * @see https://kafka.apache.org/documentation/#kraft_principal_forwarding
 */
export function brokerSecurityProperties(
  files: BrokerSecurityFiles,
  controllerListener: string,
  benchListener?: string,
  at: BrokerSecurityPaths = files,
): string[] {
  const password = readPassword(files, BROKER_PRINCIPAL);
  const client = CLIENT_LISTENER.toLowerCase();
  const bench = benchListener === undefined ? '' : `,${benchListener}:PLAINTEXT`;
  return [
    `listener.security.protocol.map=${controllerListener}:SSL,${CLIENT_LISTENER}:SASL_SSL${bench}`,
    `inter.broker.listener.name=${CLIENT_LISTENER}`,
    `sasl.enabled.mechanisms=${SCRAM_MECHANISM}`,
    `sasl.mechanism.inter.broker.protocol=${SCRAM_MECHANISM}`,
    `listener.name.${client}.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config=` +
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_PRINCIPAL}" password="${password}";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${at.keystoreFile}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${at.caFile}`,
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

/**
 * A Java client's properties for `principal` (the admin tools' `--command-config`); `at` says
 * where the client reads the CA, when not at its own path.
 */
export function javaClientProperties(
  files: BrokerSecurityFiles,
  principal: string,
  at: Pick<BrokerSecurityPaths, 'caFile'> = files,
): string {
  return [
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${SCRAM_MECHANISM}`,
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${principal}" password="${readPassword(files, principal)}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${at.caFile}`,
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

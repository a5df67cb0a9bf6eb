/**
 * `npm run compose:setup`: makes, once, every secret the compose file reads, in
 * `deploy/compose/.secrets/` (git-ignored, mode 0700): the Kafka CA and node certificate (for the
 * host name `kafka`), a password per principal, the broker's `server.properties` and format
 * arguments, the store's root and bus users, the replica set's key file, the registry's and the
 * connectors' client keys, the lookup service's keys, and the console's cookie keys. Running it again keeps what exists, so
 * passwords and the CA survive; it writes again what derives from the code (the broker's
 * properties, the format arguments with a principal a new version adds).
 *
 * The keys that people and agency systems use (API keys, the registry's operator key, a demo
 * token signing key) go to `.secrets/operator/`, which no container mounts.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BROKER_PRINCIPAL,
  brokerSecurityProperties,
  ensureBrokerSecurity,
  javaClientProperties,
  scramFormatArguments,
  writeArgfile,
} from '../local/broker-security';
import { CONTROLLER_LISTENER, kafkaServerProperties, kraftClusterId } from '../local/local-kafka';
import { type Progress } from '../local/provision';
import { busPrincipals } from '../local/topics';
import { generateCredentials } from '../../services/platform/credentials';
import { keyIdOf } from '../../services/lookup/audit-chain';
import { ensureDevKeys, readPrivateKey } from '../../services/lookup/dev-keys';
import { newSessionKeysFile } from '../../services/console/sealed-cookie';
import {
  CONSOLE_SESSION_KEYS,
  MONGODB_SECRET,
  REGISTRY_CLIENTS,
  REGISTRY_CLIENTS_SECRET,
} from '../workloads';
import {
  AGENCY_REGISTRY_KEYS,
  busMongodbUri,
  composeFile,
  contractOwners,
  KAFKA_CERTIFICATE_HOSTS,
  KAFKA_CONTROLLER_PORT,
  KAFKA_DATA_DIR,
  KAFKA_HOST,
  KAFKA_PORT,
  KAFKA_SECRETS,
  MONGODB_KEYFILE,
  mountedAt,
  rootMongodbUri,
  SECRETS_PATH,
  secretPath,
} from './compose';

const ROOT_USER = 'root';
/** The store user the services connect as; `init` creates it with the password the setup makes. */
export const BUS_MONGODB_USER = 'lienthong';
const OPERATOR_DIR = 'operator';
const REGISTRY_OPERATOR = 'lienthong-operator';

function secret(bytes = 24): string {
  // base64url: nothing a URI, a properties file or an argument file would need to escape.
  return randomBytes(bytes).toString('base64url');
}

/** Writes `path` (and its directory, 0700) unless it exists; returns its text. */
function keep(path: string, make: () => string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) writeFileSync(path, make(), { mode: 0o600 });
  return readFileSync(path, 'utf8');
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { mode: 0o600 });
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The Kafka node's material: the CA, its certificate, the passwords, its properties and format. */
function kafkaSecrets(dir: string, progress: Progress, env: NodeJS.ProcessEnv): void {
  const kafkaDir = join(dir, 'kafka');
  const principals = busPrincipals();
  const files = ensureBrokerSecurity(kafkaDir, principals, progress, env, KAFKA_CERTIFICATE_HOSTS);
  // Where the kafka container mounts them.
  const at = { keystoreFile: mountedAt('kafka-node'), caFile: mountedAt('kafka-ca') };
  const node = { nodeId: 1, port: KAFKA_PORT, controllerPort: KAFKA_CONTROLLER_PORT, host: KAFKA_HOST };
  write(
    join(dir, KAFKA_SECRETS['kafka-server-properties']),
    kafkaServerProperties({
      ...node,
      bindHost: '0.0.0.0',
      dataDir: KAFKA_DATA_DIR,
      quorum: [node],
      security: brokerSecurityProperties(files, CONTROLLER_LISTENER, undefined, at),
      header: '# Written by `npm run compose:setup` (deploy/compose/setup.ts); it holds the broker password.',
    }),
  );
  // One cluster id for good: the format arguments are written again, the id is kept.
  const clusterId = keep(join(kafkaDir, 'cluster-id'), kraftClusterId).trim();
  writeArgfile(join(dir, KAFKA_SECRETS['kafka-format-args']), [
    'kafka.tools.StorageTool',
    'format',
    `--cluster-id=${clusterId}`,
    '--config',
    mountedAt('kafka-server-properties'),
    '--ignore-formatted',
    ...scramFormatArguments(files, principals),
  ]);
  write(
    join(dir, KAFKA_SECRETS['kafka-healthcheck-properties']),
    javaClientProperties(files, BROKER_PRINCIPAL, at),
  );
}

/** The store: the root (for the image's first start and `init`), the bus user, the key file. */
function mongodbSecrets(dir: string): void {
  const root = join(dir, MONGODB_SECRET);
  keep(join(root, 'root-username'), () => ROOT_USER);
  const rootPassword = keep(join(root, 'root-password'), () => secret());
  write(join(root, 'root-uri'), rootMongodbUri(ROOT_USER, rootPassword));
  keep(join(root, 'uri'), () => busMongodbUri(BUS_MONGODB_USER, secret()));
  // 6 to 1024 base64 characters, as mongod wants of a key file.
  keep(join(dir, MONGODB_KEYFILE.secret, MONGODB_KEYFILE.key), () => randomBytes(756).toString('base64'));
}

/** The registry's clients: the hashes it checks, and each key where its user reads it. */
function registrySecrets(dir: string): void {
  const owners = contractOwners();
  const clientFile = (id: string) => join(dir, REGISTRY_CLIENTS_SECRET, id);
  const credentials = join(dir, 'lienthong-registry-credentials', 'credentials.json');
  const agencies = join(dir, AGENCY_REGISTRY_KEYS.secret, AGENCY_REGISTRY_KEYS.key);
  const all = join(dir, OPERATOR_DIR, 'registry-keys.json');
  const made = [credentials, agencies, all, ...Object.values(REGISTRY_CLIENTS).map(clientFile)];
  // Made together: a client a new version adds gets a key, and every hash matches its key.
  if (made.every((f) => existsSync(f))) return;
  const { entries, keys } = generateCredentials([
    ...owners.map((id) => ({ id, role: 'agency' as const, agency: id })),
    { id: REGISTRY_CLIENTS.reader, role: 'reader' },
    // It owns the derived subjects it registers first (see REGISTRY_CLIENTS).
    { id: REGISTRY_CLIENTS.subscriptions, role: 'agency', agency: REGISTRY_CLIENTS.subscriptions },
    { id: REGISTRY_OPERATOR, role: 'operator' },
  ]);
  write(credentials, json({ clients: entries }));
  for (const id of Object.values(REGISTRY_CLIENTS)) write(clientFile(id), keys[id] ?? '');
  write(agencies, json(Object.fromEntries(owners.map((o) => [o, keys[o]]))));
  write(all, json(keys));
}

/** An API credentials file (the hashes a service checks) and its keys, for the operator to hand out. */
function apiKeys(hashes: string, plain: string, operator: boolean): void {
  if (existsSync(hashes) && existsSync(plain)) return;
  const owners = contractOwners();
  const { entries, keys } = generateCredentials([
    ...owners.map((id) => ({ id, role: 'agency' as const, agency: id })),
    ...(operator ? [{ id: REGISTRY_OPERATOR, role: 'operator' as const }] : []),
  ]);
  write(hashes, json({ clients: entries }));
  write(plain, json(keys));
}

/** The lookup service's keys: tokens' public keys, the audit seal and its public key. */
function lookupSecrets(dir: string): void {
  // A demo signing key, for `npm run lookup:token` against this deployment: production tokens
  // come from the agencies' identity provider, whose public keys replace jwt-keys.json.
  const dev = ensureDevKeys(join(dir, OPERATOR_DIR, 'lookup'));
  const lookup = join(dir, 'lienthong-lookup-keys');
  keep(join(lookup, 'jwt-keys.json'), () => readFileSync(dev.tokenPublicKeys, 'utf8'));
  keep(join(lookup, 'audit-seal-key.pem'), () => readFileSync(dev.auditSealKey, 'utf8'));
  const seal = createPublicKey(readPrivateKey(join(lookup, 'audit-seal-key.pem')));
  keep(join(lookup, 'audit-trusted-keys.json'), () =>
    json({ keys: [{ kid: keyIdOf(seal), publicKey: seal.export({ type: 'spki', format: 'pem' }) }] }),
  );
}

/**
 * The files a container reads are made readable to the containers' own users (`node`,
 * `appuser`, `mongodb`: uids the host does not share), 0644; the directory above them stays 0700,
 * so on the host they are the setup user's alone.
 */
function shareWithContainers(dir: string): void {
  const mounted = new Set(mountedFiles(dir));
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) {
        chmodSync(path, 0o700);
        walk(path);
      } else chmodSync(path, mounted.has(path) ? 0o644 : 0o600);
    }
  };
  chmodSync(dir, 0o700);
  walk(dir);
}

/** Makes what is missing in `dir`; returns the files the compose file reads that are still absent. */
export function setupCompose(
  dir: string = SECRETS_PATH,
  progress: Progress = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  kafkaSecrets(dir, progress, env);
  mongodbSecrets(dir);
  registrySecrets(dir);
  apiKeys(
    join(dir, 'lienthong-connector-keys', 'connector-keys.json'),
    join(dir, OPERATOR_DIR, 'connector-api-keys.json'),
    true,
  );
  apiKeys(
    join(dir, 'lienthong-subscriptions', 'keys.json'),
    join(dir, OPERATOR_DIR, 'subscriptions-api-keys.json'),
    false,
  );
  // No webhook until an operator adds one (see "The subscriptions service").
  keep(join(dir, 'lienthong-subscriptions', 'endpoints.json'), () => json({ endpoints: [] }));
  lookupSecrets(dir);
  // The keys the console's instances seal their cookies with, alike on all of them.
  keep(join(dir, CONSOLE_SESSION_KEYS.secret, CONSOLE_SESSION_KEYS.key), newSessionKeysFile);
  shareWithContainers(dir);
  return mountedFiles(dir).filter((f) => !existsSync(f));
}

/** The files of `dir` the compose file reads. */
export function mountedFiles(dir: string): string[] {
  return Object.keys(composeFile().secrets).map((name) => join(dir, secretPath(name)));
}

function main(): number {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const missing = setupCompose(SECRETS_PATH, progress);
  for (const f of missing) progress(`compose:setup: ${f} was not made`);
  if (missing.length > 0) return 1;
  progress(`compose:setup: the secrets are in ${SECRETS_PATH} (mode 0700, git-ignored)`);
  progress(`  the agencies' API keys and the registry's operator key: ${join(SECRETS_PATH, OPERATOR_DIR)}`);
  progress('  next: docker compose -f deploy/compose/compose.yaml up -d --build');
  return 0;
}

if (require.main === module) process.exitCode = main();

/**
 * The single-host compose file, generated from the declarations the Kubernetes base and the local
 * stack run on: the workloads (`deploy/workloads.ts`), the principals, and the topics and ACLs that
 * the one-shot `init` service applies from the same code. `npm run compose:generate` writes
 * `deploy/compose/compose.yaml`; `-- --check` and a unit test fail when the committed file drifts.
 *
 * Kafka is the official `apache/kafka` image, one KRaft node that is broker and controller, with
 * the local stack's security: SASL_SSL with SCRAM-SHA-512 for clients, mutual TLS between
 * controller and broker, the StandardAuthorizer denying what no ACL grants. MongoDB 7 is a
 * one-member replica set with authentication. Every secret is a file that `npm run compose:setup`
 * makes in `deploy/compose/.secrets/` (git-ignored), given to the containers as compose secrets;
 * none is in an environment variable or on a command line.
 */
import { join } from 'node:path';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { KAFKA_VERSION } from '../local/local-kafka';
import {
  commonEnv,
  MONGODB_DB,
  MONGODB_PORT,
  MONGODB_SECRET,
  ownEnvOf,
  REGISTRY_PORT,
  secretFilesOf,
  SPOOL_DIR,
  type Workload,
  workloads as sharedWorkloads,
} from '../workloads';

/** A compose file, as plain data. */
export type ComposeFile = Record<string, unknown> & {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, Record<string, never>>;
};
export type ComposeService = Record<string, unknown>;

export const COMPOSE_DIR = __dirname;
/** Where `npm run compose:setup` writes the secrets, relative to the compose file. */
export const SECRETS_DIR = '.secrets';
export const SECRETS_PATH = join(COMPOSE_DIR, SECRETS_DIR);

/** The bus's image, built from `deploy/Dockerfile` by `docker compose build`. */
export const IMAGE = 'lienthong:local';
/** The official image, at the Kafka release the local stack tests with. */
export const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;
export const MONGODB_IMAGE = 'mongo:7.0';

export const KAFKA_HOST = 'kafka';
export const KAFKA_PORT = 9093;
export const KAFKA_CONTROLLER_PORT = 9094;
/** The names the node certificate is made for: the service's, and `localhost` for its health check. */
export const KAFKA_CERTIFICATE_HOSTS: readonly string[] = [KAFKA_HOST, 'localhost'];
export const KAFKA_DATA_DIR = '/var/lib/kafka/data';
export const MONGODB_HOST = 'mongodb';
export const REPLICA_SET = 'rs0';

/**
 * The store's connection string for the bus, as the setup writes it into `lienthong-mongodb/uri`
 * (with the user's password where `password` is); the `init` service creates that user.
 */
export function busMongodbUri(user: string, password: string): string {
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `mongodb://${credentials}@${MONGODB_HOST}:${MONGODB_PORT}/${MONGODB_DB}?authSource=admin&replicaSet=${REPLICA_SET}`;
}

/** The root's connection string, straight to the one member, which may not be a primary yet. */
export function rootMongodbUri(user: string, password: string): string {
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `mongodb://${credentials}@${MONGODB_HOST}:${MONGODB_PORT}/?authSource=admin&directConnection=true`;
}

/**
 * The files of `.secrets/`, by compose secret name: what the setup makes, each a path relative to
 * {@link SECRETS_DIR}. The Kafka material is laid out as `ensureBrokerSecurity` makes it; the
 * others as the Kubernetes Secrets of the same name hold them (`<secret>/<key>`), so that the same
 * directory can fill those with `kubectl create secret generic <secret> --from-file=<secret>/`.
 */
export const KAFKA_SECRETS = {
  'kafka-ca': 'kafka/ca.crt',
  'kafka-node': 'kafka/node.pem',
  'kafka-server-properties': 'kafka/server.properties',
  'kafka-format-args': 'kafka/format.args',
  'kafka-healthcheck-properties': 'kafka/healthcheck.properties',
} as const;

/** The compose secret of `principal`'s Kafka password. */
export function kafkaPasswordSecret(principal: string): string {
  return `kafka-password.${principal}`;
}

/** The file of `principal`'s Kafka password, under the secrets directory. */
export function kafkaPasswordPath(principal: string): string {
  return `kafka/secrets/${principal}.password`;
}

/** The compose secret holding `key` of the Kubernetes-style secret `secret`. */
export function secretName(secret: string, key: string): string {
  return `${secret}.${key}`;
}

/** Where a container reads a compose secret. */
export function mountedAt(name: string): string {
  return `/run/secrets/${name}`;
}

/** The registry clients' keys for the `schemas` one-shot: each agency registers its own contract. */
export const AGENCY_REGISTRY_KEYS = { secret: 'lienthong-registry-agencies', key: 'keys.json' } as const;
/** The store's root, which only `mongodb` and `init` see. */
export const MONGODB_ROOT_FILES = ['root-username', 'root-password', 'root-uri'] as const;
export const MONGODB_KEYFILE = { secret: 'lienthong-mongodb-keyfile', key: 'keyfile' } as const;

/** The workloads, with the compose network's service names for the APIs they call. */
export function workloads(): Workload[] {
  return sharedWorkloads((name, port) => `http://${name}:${port}`);
}

const KAFKA_BROKERS = `${KAFKA_HOST}:${KAFKA_PORT}`;
const REGISTRY_URL = `http://registry:${REGISTRY_PORT}`;

/** What a container of the bus's image connects to Kafka with, as `principal`. */
function kafkaClientEnv(principal: string): Record<string, string> {
  return {
    KAFKA_BROKERS,
    KAFKA_SSL_CA_FILE: mountedAt('kafka-ca'),
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD_FILE: mountedAt(kafkaPasswordSecret(principal)),
  };
}

/** Kubernetes quantities as compose writes them: `250m` CPU is `0.25`, `384Mi` is `384M`. */
function cpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}
function memory(quantity: string): string {
  return quantity.replace(/([KMG])i$/, '$1');
}

const HARDENED = {
  read_only: true,
  tmpfs: ['/tmp'],
  cap_drop: ['ALL'],
  security_opt: ['no-new-privileges:true'],
};

/** The image's `node` has no curl: Node's own fetch asks `/readyz`. No `$`: compose would interpolate it. */
function readyCheck(port: number): Record<string, unknown> {
  const probe = `fetch('http://127.0.0.1:${port}/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    test: ['CMD', 'node', '-e', probe],
    interval: '10s',
    timeout: '5s',
    retries: 3,
    start_period: '120s',
    start_interval: '2s',
  };
}

const healthy = { condition: 'service_healthy' } as const;
const completed = { condition: 'service_completed_successfully' } as const;

/** What a bus container waits for, from what it connects to. */
function dependsOn(w: Workload, names: ReadonlySet<string>): Record<string, unknown> {
  const deps: Record<string, unknown> = {};
  if (w.to.includes('kafka')) Object.assign(deps, { kafka: healthy, init: completed });
  if (w.to.includes('mongodb')) Object.assign(deps, { mongodb: healthy, init: completed });
  // The contracts are registered before a connector or a consumer asks for them.
  if (w.to.includes('registry')) Object.assign(deps, { registry: healthy, schemas: completed });
  for (const name of w.to) if (names.has(name) && name !== 'registry') deps[name] = healthy;
  return deps;
}

/** A bus workload's service: its entry point of the one image, its principal, its secret files. */
export function busService(w: Workload, names: ReadonlySet<string>): ComposeService {
  const files = secretFilesOf(w).map((f) => ({ ...f, name: secretName(f.secret, f.key) }));
  const secrets = [
    ...(w.principal === undefined ? [] : ['kafka-ca', kafkaPasswordSecret(w.principal)]),
    ...files.map((f) => f.name),
  ];
  return {
    image: IMAGE,
    build: { context: '../..', dockerfile: 'deploy/Dockerfile' },
    command: [w.main],
    environment: {
      ...commonEnv(),
      ...(w.principal === undefined ? {} : { KAFKA_CLIENT_ID: w.name, ...kafkaClientEnv(w.principal) }),
      ...(w.registryClient === undefined ? {} : { SCHEMA_REGISTRY_URL: REGISTRY_URL }),
      ...Object.fromEntries(files.map((f) => [f.variable, mountedAt(f.name)])),
      ...ownEnvOf(w),
    },
    secrets,
    // Published on the host for the agencies' systems and people, behind its TLS proxy.
    ...(w.public ? { ports: [`${w.port}:${w.port}`] } : {}),
    ...(w.spool ? { volumes: [`${spoolVolume(w)}:${SPOOL_DIR}`] } : {}),
    ...HARDENED,
    healthcheck: readyCheck(w.port),
    depends_on: dependsOn(w, names),
    restart: 'unless-stopped',
    // The services drain and commit before they exit (STYLE's shutdown order).
    stop_grace_period: '30s',
    deploy: {
      resources: {
        limits: { cpus: cpus(w.resources.cpuLimit), memory: memory(w.resources.memoryLimit) },
        reservations: { cpus: cpus(w.resources.cpu), memory: memory(w.resources.memory) },
      },
    },
  };
}

function spoolVolume(w: Workload): string {
  return `spool-${w.name}`;
}

/**
 * The Kafka node: formatted on its first start with every principal's SCRAM credential (from an
 * argument file, so that no password is on a command line), then started on the properties the
 * setup wrote. Health: the broker answers a metadata request over SASL_SSL, as itself.
 */
export function kafkaService(): ComposeService {
  const start = [
    `if [ ! -f ${KAFKA_DATA_DIR}/meta.properties ]; then`,
    `/opt/kafka/bin/kafka-run-class.sh @${mountedAt('kafka-format-args')} || exit 1;`,
    'fi;',
    `exec /opt/kafka/bin/kafka-server-start.sh ${mountedAt('kafka-server-properties')}`,
  ].join(' ');
  return {
    image: KAFKA_IMAGE,
    hostname: KAFKA_HOST,
    entrypoint: ['/bin/sh', '-c'],
    command: [start],
    environment: { KAFKA_HEAP_OPTS: '-Xms1g -Xmx1g' },
    secrets: Object.keys(KAFKA_SECRETS),
    volumes: [`kafka-data:${KAFKA_DATA_DIR}`],
    healthcheck: {
      test: [
        'CMD',
        '/opt/kafka/bin/kafka-broker-api-versions.sh',
        '--bootstrap-server',
        `localhost:${KAFKA_PORT}`,
        '--command-config',
        mountedAt('kafka-healthcheck-properties'),
      ],
      interval: '15s',
      timeout: '30s',
      retries: 5,
      start_period: '120s',
      start_interval: '5s',
    },
    restart: 'unless-stopped',
    stop_grace_period: '60s',
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    deploy: {
      resources: { limits: { cpus: '2', memory: '2G' }, reservations: { cpus: '0.5', memory: '1536M' } },
    },
  };
}

/**
 * MongoDB 7, a replica set of one member so that the bus gets what it relies on from a replica set
 * (majority writes, sessions). The member authenticates with the key file a replica set with
 * access control needs; mongod refuses one that others can read, so the entry point copies it,
 * 0400 and owned by `mongodb`, before it drops to that user. The image creates the root user on
 * the first start (without `--replSet` then); the `init` service initiates the set.
 */
export function mongodbService(): ComposeService {
  const keyfile = secretName(MONGODB_KEYFILE.secret, MONGODB_KEYFILE.key);
  const start = [
    `install -m 0400 -o mongodb -g mongodb ${mountedAt(keyfile)} /tmp/mongodb-keyfile &&`,
    `exec docker-entrypoint.sh mongod --replSet ${REPLICA_SET} --bind_ip_all --keyFile /tmp/mongodb-keyfile`,
    '--wiredTigerCacheSizeGB 1',
  ].join(' ');
  const root = (key: string) => mountedAt(secretName(MONGODB_SECRET, key));
  return {
    image: MONGODB_IMAGE,
    hostname: MONGODB_HOST,
    entrypoint: ['/bin/bash', '-c'],
    command: [start],
    environment: {
      MONGO_INITDB_ROOT_USERNAME_FILE: root('root-username'),
      MONGO_INITDB_ROOT_PASSWORD_FILE: root('root-password'),
    },
    secrets: [
      keyfile,
      secretName(MONGODB_SECRET, 'root-username'),
      secretName(MONGODB_SECRET, 'root-password'),
    ],
    volumes: ['mongodb-data:/data/db', 'mongodb-config:/data/configdb'],
    // `ping` needs no user: up and answering. The set's primary is what `init` waits for.
    healthcheck: {
      test: ['CMD', 'mongosh', '--quiet', '--eval', 'db.adminCommand({ ping: 1 }).ok'],
      interval: '10s',
      timeout: '10s',
      retries: 5,
      start_period: '60s',
      start_interval: '2s',
    },
    restart: 'unless-stopped',
    stop_grace_period: '60s',
    deploy: {
      resources: { limits: { cpus: '2', memory: '3G' }, reservations: { cpus: '0.5', memory: '1536M' } },
    },
  };
}

/**
 * The one-shot `init` (deploy/compose/init.ts, compiled into the image), as the operator: it
 * initiates the replica set and creates the bus's user in the store, then creates every declared
 * topic with its policy and applies every declared ACL (`busTopics`, `busGrants`).
 */
export function initService(): ComposeService {
  const mongo = (key: string) => secretName(MONGODB_SECRET, key);
  return {
    image: IMAGE,
    build: { context: '../..', dockerfile: 'deploy/Dockerfile' },
    command: ['deploy/compose/init.js'],
    environment: {
      ...kafkaClientEnv(OPERATOR_PRINCIPAL),
      KAFKA_CLIENT_ID: 'lienthong-init',
      MONGODB_URI_FILE: mountedAt(mongo('root-uri')),
      MONGODB_BUS_URI_FILE: mountedAt(mongo('uri')),
    },
    secrets: ['kafka-ca', kafkaPasswordSecret(OPERATOR_PRINCIPAL), mongo('root-uri'), mongo('uri')],
    ...HARDENED,
    depends_on: { kafka: healthy, mongodb: healthy },
    restart: 'no',
    deploy: { resources: { limits: { cpus: '1', memory: '256M' } } },
  };
}

/** The one-shot `schemas`: each agency's contract registered under its subject, with its own key. */
export function schemasService(): ComposeService {
  const keys = secretName(AGENCY_REGISTRY_KEYS.secret, AGENCY_REGISTRY_KEYS.key);
  return {
    image: IMAGE,
    build: { context: '../..', dockerfile: 'deploy/Dockerfile' },
    command: ['schemas/contract-tool.js', 'register'],
    environment: { SCHEMA_REGISTRY_URL: REGISTRY_URL, SCHEMA_REGISTRY_KEYS_FILE: mountedAt(keys) },
    secrets: [keys],
    ...HARDENED,
    depends_on: { registry: healthy },
    restart: 'no',
    deploy: { resources: { limits: { cpus: '1', memory: '256M' } } },
  };
}

/** The whole file, in the order the services start. */
export function composeFile(list: readonly Workload[] = workloads()): ComposeFile {
  const names = new Set(list.map((w) => w.name));
  const [registry, ...others] = list;
  if (registry?.name !== 'registry') throw new Error('the registry is the first workload');
  const services: Record<string, ComposeService> = {
    kafka: kafkaService(),
    mongodb: mongodbService(),
    init: initService(),
    registry: busService(registry, names),
    schemas: schemasService(),
    ...Object.fromEntries(others.map((w) => [w.name, busService(w, names)])),
  };
  const used = new Set(Object.values(services).flatMap((s) => (s.secrets as string[] | undefined) ?? []));
  return {
    name: 'lienthong',
    services,
    volumes: Object.fromEntries(
      ['kafka-data', 'mongodb-data', 'mongodb-config', ...list.filter((w) => w.spool).map(spoolVolume)].map(
        (v) => [v, {}],
      ),
    ),
    secrets: Object.fromEntries(
      [...used].sort().map((name) => [name, { file: `./${SECRETS_DIR}/${secretPath(name)}` }]),
    ),
  };
}

/** The file under the secrets directory that holds the compose secret `name`. */
export function secretPath(name: string): string {
  if (name in KAFKA_SECRETS) return KAFKA_SECRETS[name as keyof typeof KAFKA_SECRETS];
  if (name.startsWith('kafka-password.')) return kafkaPasswordPath(name.slice('kafka-password.'.length));
  const dot = name.indexOf('.');
  return `${name.slice(0, dot)}/${name.slice(dot + 1)}`;
}

/** The agencies whose contracts the `schemas` one-shot registers, each with its own registry key. */
export function contractOwners(): string[] {
  return TOPIC_NAMES.map((t) => TOPICS[t].owner);
}

/**
 * The bus's workloads, declared once for every way of deploying it: the Kubernetes base
 * (`deploy/k8s/manifests.ts`) and the single-host compose file (`deploy/compose/compose.ts`) are
 * both generated from this list, so that a service, its port, its principal, its variables and its
 * secrets cannot differ between them.
 */
import { CONNECTOR_PORTS } from '../connectors/runtime/config';
import { CONSOLE_PORT } from '../services/console/config';
import { LOOKUP_PORT } from '../services/lookup/config';
import { SHARING_PORT } from '../services/sharing/config';
import { SUBSCRIPTIONS_PORT } from '../services/subscriptions/config';
import { TOPIC_NAMES, type TopicName } from '../schemas/topics';
import { SCRAM_MECHANISM } from './local/broker-security';
import { NODE_HEAP_OPTIONS } from './local/service-entry';
import { agencyPrincipal, SERVICE_PRINCIPALS } from './local/topics';

export const REGISTRY_TOPIC = '_schemas';
export const REGISTRY_PORT = 8081;
export const MONGODB_PORT = 27017;
/** The database the bus's views, audit trail and deliveries live in. */
export const MONGODB_DB = 'lienthong';
/** In a workload's `to`: the agencies' webhook endpoints, HTTPS outside the deployment. */
export const WEBHOOKS = 'webhooks';

/**
 * The bus's own clients of the schema registry. Each key is the file `<client>` of the
 * `lienthong-registry-clients` secret; the registry's credentials file holds their hashes.
 */
export const REGISTRY_CLIENTS = {
  /** Reads the contracts: the connectors, the sharing and lookup services. */
  reader: 'lienthong-reader',
  /**
   * Registers each agreement's derived contract under the derived topic's subject, which a
   * reader may not: an `agency` client of its own, the owner of the subjects it registers first.
   */
  subscriptions: 'lienthong-subscriptions',
} as const;

/** The secret holding the registry clients' keys, one file per client id. */
export const REGISTRY_CLIENTS_SECRET = 'lienthong-registry-clients';
/** The secret holding the store's connection string (with its password), as the file `uri`. */
export const MONGODB_SECRET = 'lienthong-mongodb';

/**
 * The console's cookie sealing keys, one file of the secret: every instance reads the same, so a
 * sign-in started on one pod finishes on another and a session works on any.
 */
export const CONSOLE_SESSION_KEYS = { secret: 'lienthong-console', key: 'session-keys' } as const;

/** A bus workload: one process of the image, with the principal it connects to Kafka as. */
export interface Workload {
  name: string;
  /** The compiled entry point, from the image's working directory. */
  main: string;
  port: number;
  /** Its Kafka principal; none for a workload that does not use Kafka. */
  principal?: string;
  /** Its schema registry client ({@link REGISTRY_CLIENTS}); none for one that does not call it. */
  registryClient?: string;
  replicas: number;
  /** Reached from outside the deployment (agencies' systems, people). */
  public: boolean;
  /** What it connects to: `kafka`, `mongodb`, {@link WEBHOOKS}, or a workload by name. */
  to: readonly string[];
  /** Files it reads from secrets, by variable: `secret/key`. */
  secretFiles: Readonly<Record<string, string>>;
  env?: Readonly<Record<string, string>>;
  /** The spool of an agency's imports, which must outlive the process. */
  spool?: boolean;
  /** Scale on CPU between `replicas` and this. */
  maxReplicas?: number;
  /** One process at a time: the sharing service writes the views from one process (see DESIGN). */
  singleWriter?: boolean;
  resources: { cpu: string; memory: string; cpuLimit: string; memoryLimit: string };
}

/** Where a connector keeps the files of its imports. */
export const SPOOL_DIR = '/var/lib/lienthong/spool';

const SMALL = { cpu: '100m', memory: '192Mi', cpuLimit: '1', memoryLimit: '384Mi' };
const MEDIUM = { cpu: '250m', memory: '384Mi', cpuLimit: '2', memoryLimit: '768Mi' };

/** How one workload reaches another's HTTP API, in a given deployment. */
export type ServiceUrl = (name: string, port: number) => string;

/** The workloads, in the order `npm start` starts them. */
export function workloads(serviceUrl: ServiceUrl): Workload[] {
  return [
    {
      name: 'registry',
      main: 'services/registry/main.js',
      port: REGISTRY_PORT,
      principal: SERVICE_PRINCIPALS.registry,
      replicas: 2,
      public: true,
      to: ['kafka'],
      secretFiles: { SCHEMA_REGISTRY_CREDENTIALS_FILE: 'lienthong-registry-credentials/credentials.json' },
      env: { SCHEMA_REGISTRY_TOPIC: REGISTRY_TOPIC },
      resources: SMALL,
    },
    ...TOPIC_NAMES.map((topic): Workload => ({
      name: connectorName(topic),
      main: `connectors/${topic}/main.js`,
      port: CONNECTOR_PORTS[topic],
      principal: agencyPrincipal(topic),
      registryClient: REGISTRY_CLIENTS.reader,
      replicas: 2,
      maxReplicas: 4,
      public: true,
      to: ['kafka', 'registry'],
      secretFiles: { CONNECTOR_API_KEYS_FILE: 'lienthong-connector-keys/connector-keys.json' },
      env: { CONNECTOR_SPOOL_DIR: SPOOL_DIR },
      spool: true,
      resources: SMALL,
    })),
    {
      name: 'sharing',
      main: 'services/sharing/main.js',
      port: SHARING_PORT,
      principal: SERVICE_PRINCIPALS.sharing,
      registryClient: REGISTRY_CLIENTS.reader,
      replicas: 1,
      singleWriter: true,
      public: false,
      to: ['kafka', 'mongodb', 'registry'],
      secretFiles: {},
      resources: MEDIUM,
    },
    {
      name: 'lookup',
      main: 'services/lookup/main.js',
      port: LOOKUP_PORT,
      principal: SERVICE_PRINCIPALS.lookup,
      registryClient: REGISTRY_CLIENTS.reader,
      replicas: 2,
      maxReplicas: 6,
      public: true,
      to: ['kafka', 'mongodb', 'registry'],
      secretFiles: {
        LOOKUP_JWT_KEYS_FILE: 'lienthong-lookup-keys/jwt-keys.json',
        LOOKUP_AUDIT_SEAL_KEY_FILE: 'lienthong-lookup-keys/audit-seal-key.pem',
        LOOKUP_AUDIT_TRUSTED_KEYS_FILE: 'lienthong-lookup-keys/audit-trusted-keys.json',
      },
      env: { LOOKUP_JWT_ISSUER: 'https://id.hanoi.gov.vn', LOOKUP_JWT_AUDIENCE: 'lienthong-lookup' },
      resources: MEDIUM,
    },
    {
      // Derives the agreements' topics, posts the webhooks, and serves the deliveries and the feed.
      name: 'subscriptions',
      main: 'services/subscriptions/main.js',
      port: SUBSCRIPTIONS_PORT,
      principal: SERVICE_PRINCIPALS.subscriptions,
      registryClient: REGISTRY_CLIENTS.subscriptions,
      replicas: 1,
      singleWriter: true,
      public: true,
      to: ['kafka', 'mongodb', 'registry', WEBHOOKS],
      secretFiles: {
        SUBSCRIPTIONS_ENDPOINTS_FILE: 'lienthong-subscriptions/endpoints.json',
        SUBSCRIPTIONS_KEYS_FILE: 'lienthong-subscriptions/keys.json',
      },
      resources: MEDIUM,
    },
    {
      // No store and no Kafka: it calls the bus's public APIs with its user's own token.
      name: 'console',
      main: 'services/console/main.js',
      port: CONSOLE_PORT,
      replicas: 2,
      public: true,
      to: ['lookup', 'registry', 'sharing', ...TOPIC_NAMES.map(connectorName)],
      secretFiles: {
        CONSOLE_SESSION_KEYS_FILE: `${CONSOLE_SESSION_KEYS.secret}/${CONSOLE_SESSION_KEYS.key}`,
      },
      env: {
        CONSOLE_MODE: 'production',
        CONSOLE_LOOKUP_URL: serviceUrl('lookup', LOOKUP_PORT),
        CONSOLE_REGISTRY_URL: serviceUrl('registry', REGISTRY_PORT),
        CONSOLE_SHARING_URL: serviceUrl('sharing', SHARING_PORT),
        CONSOLE_CONNECTOR_URLS: JSON.stringify(
          Object.fromEntries(TOPIC_NAMES.map((t) => [t, serviceUrl(connectorName(t), CONNECTOR_PORTS[t])])),
        ),
      },
      resources: SMALL,
    },
  ];
}

export function connectorName(topic: TopicName): string {
  return `connector-${topic}`;
}

/** One file a workload reads from a secret, and the variable that names it. */
export interface SecretFile {
  variable: string;
  secret: string;
  key: string;
}

/**
 * Every secret file of a workload: its own ({@link Workload.secretFiles}), its registry client's
 * key, and the store's connection string. Never a secret in a variable's value. The Kafka password
 * and CA are not among them: where they come from is the deployment's (Strimzi's secrets on
 * Kubernetes, the setup's files in compose).
 */
export function secretFilesOf(w: Workload): SecretFile[] {
  const declared = Object.entries(w.secretFiles).map(([variable, ref]) => {
    const [secret, key] = ref.split('/') as [string, string];
    return { variable, secret, key };
  });
  return [
    ...(w.to.includes('mongodb')
      ? [{ variable: 'MONGODB_URI_FILE', secret: MONGODB_SECRET, key: 'uri' }]
      : []),
    ...(w.registryClient === undefined
      ? []
      : [{ variable: 'SCHEMA_REGISTRY_KEY_FILE', secret: REGISTRY_CLIENTS_SECRET, key: w.registryClient }]),
    ...declared,
  ];
}

/** The variables every bus workload gets alike, wherever it runs, beside where Kafka and the registry are. */
export function commonEnv(): Record<string, string> {
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: SCRAM_MECHANISM,
    MONGODB_DB,
    HOST: '0.0.0.0',
    LOG_LEVEL: 'info',
    // The heap's bound, as local runs give it on the command line (service-entry.ts).
    NODE_OPTIONS: NODE_HEAP_OPTIONS.join(' '),
  };
}

/** A workload's own plain variables, beside {@link commonEnv}, its Kafka principal and its secret files. */
export function ownEnvOf(w: Workload): Record<string, string> {
  return {
    PORT: String(w.port),
    ...(w.registryClient === undefined ? {} : { SCHEMA_REGISTRY_CLIENT_ID: w.registryClient }),
    ...w.env,
  };
}

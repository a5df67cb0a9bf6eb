/**
 * The Kubernetes base, generated from the declarations the local stack runs on: the topics and
 * their policy, the principals and their ACLs, the services and their ports. `npm run k8s:generate`
 * writes it to `deploy/k8s/base/`; a unit test fails when the committed files drift from it.
 *
 * Kafka runs on Strimzi (KRaft, node pools, TLS + SCRAM-SHA-512, simple authorization), MongoDB as
 * a three-member replica set in a StatefulSet. Every bus workload runs the one image the Dockerfile
 * builds, with its own principal, probes, requests and limits, a disruption budget and network
 * policies that allow the flows of DESIGN and nothing else.
 */
import { type AclGrant, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { expectationOf, type TopicDeclaration } from '../../services/platform/topic-policy';
import { CONNECTOR_PORTS } from '../../connectors/runtime/config';
import { CONSOLE_PORT } from '../../services/console/config';
import { LOOKUP_PORT } from '../../services/lookup/config';
import { SHARING_PORT } from '../../services/sharing/config';
import { SUBSCRIPTIONS_PORT } from '../../services/subscriptions/config';
import { TOPIC_NAMES, type TopicName } from '../../schemas/topics';
import { agencyPrincipal, busGrants, busPrincipals, busTopics, SERVICE_PRINCIPALS } from '../local/topics';

/** A Kubernetes object, as plain data. */
export type Resource = Record<string, unknown> & { apiVersion: string; kind: string };

export const NAMESPACE = 'lienthong';
/** Strimzi names its services and secrets after the cluster: `lienthong-kafka-bootstrap`, … */
export const KAFKA_CLUSTER = 'lienthong';
/** The Kafka version the local stack tests with, which Strimzi 0.45 runs in KRaft mode. */
export const KAFKA_VERSION = '3.9.0';
const KAFKA_BROKERS = 3;
const KAFKA_TLS_PORT = 9093;
const REGISTRY_TOPIC = '_schemas';
const REGISTRY_PORT = 8081;
const MONGODB_PORT = 27017;
const IMAGE = 'lienthong';
/** In a workload's `to`: the agencies' webhook endpoints, HTTPS outside the cluster. */
const WEBHOOKS = 'webhooks';
const PART_OF = { 'app.kubernetes.io/part-of': 'lienthong' };

/** A bus workload: one process of the image, with the principal it connects to Kafka as. */
interface Workload {
  name: string;
  /** The compiled entry point, from the image's working directory. */
  main: string;
  port: number;
  /** Its Kafka principal; none for a workload that does not use Kafka. */
  principal?: string;
  replicas: number;
  /** Reached from outside the cluster, through the ingress controller (agencies' systems, people). */
  public: boolean;
  /** What it connects to, beside DNS: `kafka`, `mongodb`, {@link WEBHOOKS}, or a workload by name. */
  to: readonly string[];
  /** Files it reads from Secrets, by variable: `secret/key`. */
  secretFiles: Readonly<Record<string, string>>;
  /** Values it takes from Secrets, by variable: `secret/key`. */
  secretValues?: Readonly<Record<string, string>>;
  env?: Readonly<Record<string, string>>;
  /** The spool of an agency's imports, which must outlive the pod. */
  spool?: boolean;
  /** Scale on CPU between `replicas` and this. */
  maxReplicas?: number;
  /** One pod at a time: the sharing service writes the views from one process (see DESIGN). */
  singleWriter?: boolean;
  resources: { cpu: string; memory: string; cpuLimit: string; memoryLimit: string };
}

const SMALL = { cpu: '100m', memory: '192Mi', cpuLimit: '1', memoryLimit: '384Mi' };
const MEDIUM = { cpu: '250m', memory: '384Mi', cpuLimit: '2', memoryLimit: '768Mi' };

/** The workloads, in the order `npm start` starts them. */
export function workloads(): Workload[] {
  const registryClient = { SCHEMA_REGISTRY_KEY: 'lienthong-registry-clients/lienthong-reader' };
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
      replicas: 2,
      maxReplicas: 4,
      public: true,
      to: ['kafka', 'registry'],
      secretFiles: { CONNECTOR_API_KEYS_FILE: 'lienthong-connector-keys/connector-keys.json' },
      secretValues: registryClient,
      env: { CONNECTOR_SPOOL_DIR: '/var/lib/lienthong/spool' },
      spool: true,
      resources: SMALL,
    })),
    {
      name: 'sharing',
      main: 'services/sharing/main.js',
      port: SHARING_PORT,
      principal: SERVICE_PRINCIPALS.sharing,
      replicas: 1,
      singleWriter: true,
      public: false,
      to: ['kafka', 'mongodb', 'registry'],
      secretFiles: {},
      secretValues: registryClient,
      resources: MEDIUM,
    },
    {
      name: 'lookup',
      main: 'services/lookup/main.js',
      port: LOOKUP_PORT,
      principal: SERVICE_PRINCIPALS.lookup,
      replicas: 2,
      maxReplicas: 6,
      public: true,
      to: ['kafka', 'mongodb', 'registry'],
      secretFiles: {
        LOOKUP_JWT_KEYS_FILE: 'lienthong-lookup-keys/jwt-keys.json',
        LOOKUP_AUDIT_SEAL_KEY_FILE: 'lienthong-lookup-keys/audit-seal-key.pem',
        LOOKUP_AUDIT_TRUSTED_KEYS_FILE: 'lienthong-lookup-keys/audit-trusted-keys.json',
      },
      secretValues: registryClient,
      env: { LOOKUP_JWT_ISSUER: 'https://id.hanoi.gov.vn', LOOKUP_JWT_AUDIENCE: 'lienthong-lookup' },
      resources: MEDIUM,
    },
    {
      // Derives the agreements' topics, posts the webhooks, and serves the deliveries and the feed.
      name: 'subscriptions',
      main: 'services/subscriptions/main.js',
      port: SUBSCRIPTIONS_PORT,
      principal: SERVICE_PRINCIPALS.subscriptions,
      replicas: 1,
      singleWriter: true,
      public: true,
      to: ['kafka', 'mongodb', 'registry', WEBHOOKS],
      secretFiles: {
        SUBSCRIPTIONS_ENDPOINTS_FILE: 'lienthong-subscriptions/endpoints.json',
        SUBSCRIPTIONS_KEYS_FILE: 'lienthong-subscriptions/keys.json',
      },
      secretValues: registryClient,
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
      secretFiles: {},
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

function serviceUrl(name: string, port: number): string {
  return `http://${name}.${NAMESPACE}.svc:${port}`;
}

function connectorName(topic: TopicName): string {
  return `connector-${topic}`;
}

const labels = (name: string, component: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/component': component,
  ...PART_OF,
});
const meta = (name: string, component: string, extra: Record<string, unknown> = {}) => ({
  name,
  namespace: NAMESPACE,
  labels: labels(name, component),
  ...extra,
});
const selectorOf = (name: string) => ({ matchLabels: { 'app.kubernetes.io/name': name } });

/** Kafka: a KRaft cluster of three controllers and three brokers, TLS and SCRAM only. */
export function kafkaResources(): Resource[] {
  const pool = (name: string, role: 'controller' | 'broker', storage: string): Resource => ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaNodePool',
    metadata: {
      ...meta(name, 'kafka'),
      labels: { ...labels(name, 'kafka'), 'strimzi.io/cluster': KAFKA_CLUSTER },
    },
    spec: {
      replicas: KAFKA_BROKERS,
      roles: [role],
      storage: {
        type: 'jbod',
        volumes: [
          { id: 0, type: 'persistent-claim', size: storage, deleteClaim: false, kraftMetadata: 'shared' },
        ],
      },
      resources: {
        requests: { cpu: '500m', memory: role === 'broker' ? '2Gi' : '1Gi' },
        limits: { cpu: '2', memory: role === 'broker' ? '4Gi' : '2Gi' },
      },
    },
  });
  const replication = expectationOf({ topic: '-', kind: 'domain', numPartitions: 1 }, KAFKA_BROKERS);
  return [
    pool('controllers', 'controller', '20Gi'),
    pool('brokers', 'broker', '500Gi'),
    {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'Kafka',
      metadata: {
        ...meta(KAFKA_CLUSTER, 'kafka'),
        annotations: { 'strimzi.io/node-pools': 'enabled', 'strimzi.io/kraft': 'enabled' },
      },
      spec: {
        kafka: {
          version: KAFKA_VERSION,
          metadataVersion: '3.9-IV0',
          // One listener: TLS with SCRAM-SHA-512, reachable only from the bus's own pods.
          listeners: [
            {
              name: 'tls',
              port: KAFKA_TLS_PORT,
              type: 'internal',
              tls: true,
              authentication: { type: 'scram-sha-512' },
              networkPolicyPeers: [{ podSelector: { matchLabels: PART_OF } }],
            },
          ],
          authorization: { type: 'simple', superUsers: [`User:${OPERATOR_PRINCIPAL}`] },
          config: {
            'auto.create.topics.enable': false,
            'allow.everyone.if.no.acl.found': false,
            'default.replication.factor': KAFKA_BROKERS,
            'offsets.topic.replication.factor': KAFKA_BROKERS,
            'transaction.state.log.replication.factor': KAFKA_BROKERS,
            'transaction.state.log.min.isr': Number(replication.configs['min.insync.replicas']),
            'min.insync.replicas': Number(replication.configs['min.insync.replicas']),
            'unclean.leader.election.enable': false,
          },
        },
        entityOperator: { topicOperator: {}, userOperator: {} },
      },
    },
  ];
}

/**
 * A Kubernetes name for a topic: topics may hold `_` and upper case, object names may not. The
 * topic's own name goes in `spec.topicName`.
 */
export function topicResourceName(topic: string): string {
  const name = topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return name === topic ? name : `${name}-${shortHash(topic)}`;
}

function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(text)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').slice(0, 6);
}

/** A `KafkaTopic` per declared topic, with the topic policy for three brokers. */
export function topicResources(
  declarations: readonly TopicDeclaration[] = busTopics(REGISTRY_TOPIC),
): Resource[] {
  return declarations.map((declaration) => {
    const expected = expectationOf(declaration, KAFKA_BROKERS);
    return {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaTopic',
      metadata: {
        ...meta(topicResourceName(declaration.topic), 'kafka-topic'),
        labels: {
          ...labels(topicResourceName(declaration.topic), 'kafka-topic'),
          'strimzi.io/cluster': KAFKA_CLUSTER,
        },
      },
      spec: {
        topicName: declaration.topic,
        partitions: declaration.numPartitions,
        replicas: expected.replicationFactor,
        config: expected.configs,
      },
    };
  });
}

const STRIMZI_RESOURCE = { topic: 'topic', group: 'group', cluster: 'cluster' } as const;

/** A `KafkaUser` per principal: SCRAM-SHA-512, and the ACLs the local broker gets. */
export function userResources(grants: readonly AclGrant[] = busGrants(REGISTRY_TOPIC)): Resource[] {
  return busPrincipals().map((principal) => {
    const acls = grants
      .filter((g) => g.principal === principal)
      .map((g) => ({
        resource:
          g.resource === 'cluster'
            ? { type: 'cluster' }
            : {
                type: STRIMZI_RESOURCE[g.resource],
                name: g.name,
                patternType: g.pattern === 'prefixed' ? 'prefix' : 'literal',
              },
        operations: [...g.operations],
        host: '*',
      }));
    return {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaUser',
      metadata: {
        ...meta(principal, 'kafka-user'),
        labels: { ...labels(principal, 'kafka-user'), 'strimzi.io/cluster': KAFKA_CLUSTER },
      },
      spec: {
        authentication: { type: 'scram-sha-512' },
        // The operator is a super user of the cluster and holds no ACLs.
        ...(principal === OPERATOR_PRINCIPAL ? {} : { authorization: { type: 'simple', acls } }),
      },
    };
  });
}

/**
 * MongoDB 7 as a three-member replica set. Members authenticate to each other with a key file;
 * the `mongodb-init` job initiates the set once, idempotently.
 */
export function mongodbResources(): Resource[] {
  const name = 'mongodb';
  const members = [0, 1, 2].map((i) => `${name}-${i}.${name}.${NAMESPACE}.svc.cluster.local:${MONGODB_PORT}`);
  const initiate = [
    'try { rs.status() } catch (e) {',
    `  rs.initiate({ _id: 'rs0', members: ${JSON.stringify(members.map((host, i) => ({ _id: i, host })))} })`,
    '}',
  ].join(' ');
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name, 'store'),
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: selectorOf(name).matchLabels,
        ports: [{ name: 'mongodb', port: MONGODB_PORT, targetPort: MONGODB_PORT }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(name, 'store'),
      spec: {
        serviceName: name,
        replicas: 3,
        podManagementPolicy: 'Parallel',
        selector: selectorOf(name),
        template: {
          metadata: { labels: labels(name, 'store') },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 999,
              fsGroup: 999,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name,
                image: 'mongo:7.0',
                args: ['--replSet', 'rs0', '--bind_ip_all', '--keyFile', '/etc/mongodb-keyfile/keyfile'],
                env: [
                  secretEnv('MONGO_INITDB_ROOT_USERNAME', 'lienthong-mongodb', 'root-username'),
                  secretEnv('MONGO_INITDB_ROOT_PASSWORD', 'lienthong-mongodb', 'root-password'),
                ],
                ports: [{ name: 'mongodb', containerPort: MONGODB_PORT }],
                readinessProbe: {
                  exec: { command: ['mongosh', '--quiet', '--eval', 'db.adminCommand({ ping: 1 }).ok'] },
                  periodSeconds: 10,
                },
                resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } },
                securityContext: containerSecurity(false),
                volumeMounts: [
                  { name: 'data', mountPath: '/data/db' },
                  { name: 'keyfile', mountPath: '/etc/mongodb-keyfile', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'keyfile', secret: { secretName: 'lienthong-mongodb-keyfile', defaultMode: 0o400 } },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '200Gi' } } },
          },
        ],
      },
    },
    disruptionBudget(name, 'store', { maxUnavailable: 1 }),
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta('mongodb-init', 'store'),
      spec: {
        backoffLimit: 20,
        template: {
          metadata: { labels: labels('mongodb-init', 'store') },
          spec: {
            restartPolicy: 'OnFailure',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 999,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'initiate',
                image: 'mongo:7.0',
                command: [
                  'sh',
                  '-c',
                  `mongosh --quiet --host ${members[0]} -u "$ROOT_USER" -p "$ROOT_PASSWORD" --authenticationDatabase admin --eval "${initiate}"`,
                ],
                env: [
                  secretEnv('ROOT_USER', 'lienthong-mongodb', 'root-username'),
                  secretEnv('ROOT_PASSWORD', 'lienthong-mongodb', 'root-password'),
                ],
                resources: {
                  requests: { cpu: '50m', memory: '64Mi' },
                  limits: { cpu: '500m', memory: '256Mi' },
                },
                securityContext: containerSecurity(true),
              },
            ],
          },
        },
      },
    },
  ];
}

function secretEnv(name: string, secret: string, key: string) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

function containerSecurity(readOnlyRootFilesystem: boolean) {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ['ALL'] },
  };
}

function disruptionBudget(name: string, component: string, budget: Record<string, number>): Resource {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(name, component),
    spec: { ...budget, selector: selectorOf(name) },
  };
}

/** What every bus workload reads from the `lienthong-config` ConfigMap. */
export function sharedConfig(): Resource {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('lienthong-config', 'config'),
    data: {
      KAFKA_BROKERS: `${KAFKA_CLUSTER}-kafka-bootstrap.${NAMESPACE}.svc:${KAFKA_TLS_PORT}`,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SSL_CA_FILE: '/etc/lienthong/kafka-ca/ca.crt',
      MONGODB_DB: 'lienthong',
      SCHEMA_REGISTRY_URL: `http://registry.${NAMESPACE}.svc:${REGISTRY_PORT}`,
      SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
    },
  };
}

/** A workload's Deployment (or, with a spool, StatefulSet), Service, budget and autoscaler. */
export function workloadResources(w: Workload): Resource[] {
  const secretMounts = Object.entries(w.secretFiles).map(([variable, ref]) => {
    const [secret, key] = ref.split('/') as [string, string];
    return { variable, secret, key, dir: `/etc/lienthong/secrets/${secret}` };
  });
  // The Kafka CA and the principal's password, for a workload that uses Kafka. Strimzi's User
  // Operator keeps each KafkaUser's password in a Secret of the user's name.
  const kafkaFiles =
    w.principal === undefined
      ? []
      : [
          { name: 'kafka-ca', secret: `${KAFKA_CLUSTER}-cluster-ca-cert`, key: 'ca.crt' },
          { name: 'kafka-user', secret: w.principal, key: 'password' },
        ];
  const volumes = [
    ...kafkaFiles.map((f) => ({
      name: f.name,
      secret: { secretName: f.secret, items: [{ key: f.key, path: f.key }] },
    })),
    ...[...new Set(secretMounts.map((m) => m.secret))].map((secret) => ({
      name: `secret-${secret}`,
      secret: { secretName: secret },
    })),
    { name: 'tmp', emptyDir: {} },
  ];
  const mounts = [
    ...kafkaFiles.map((f) => ({ name: f.name, mountPath: `/etc/lienthong/${f.name}`, readOnly: true })),
    ...[...new Set(secretMounts.map((m) => m.secret))].map((secret) => ({
      name: `secret-${secret}`,
      mountPath: `/etc/lienthong/secrets/${secret}`,
      readOnly: true,
    })),
    { name: 'tmp', mountPath: '/tmp' },
    ...(w.spool ? [{ name: 'spool', mountPath: '/var/lib/lienthong/spool' }] : []),
  ];
  const env = [
    { name: 'PORT', value: String(w.port) },
    ...(w.principal === undefined
      ? []
      : [
          { name: 'KAFKA_CLIENT_ID', value: w.name },
          { name: 'KAFKA_SASL_USERNAME', value: w.principal },
          { name: 'KAFKA_SASL_PASSWORD_FILE', value: '/etc/lienthong/kafka-user/password' },
        ]),
    ...(w.to.includes('mongodb') ? [secretEnv('MONGODB_URI', 'lienthong-mongodb', 'uri')] : []),
    ...secretMounts.map((m) => ({ name: m.variable, value: `${m.dir}/${m.key}` })),
    ...Object.entries(w.secretValues ?? {}).map(([variable, ref]) => {
      const [secret, key] = ref.split('/') as [string, string];
      return secretEnv(variable, secret, key);
    }),
    ...Object.entries(w.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const probe = (path: string, extra: Record<string, number> = {}) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: 10,
    timeoutSeconds: 3,
    ...extra,
  });
  const pod = {
    metadata: { labels: labels(w.name, 'bus') },
    spec: {
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: w.name,
          image: IMAGE,
          args: [w.main],
          ports: [{ name: 'http', containerPort: w.port }],
          envFrom: [{ configMapRef: { name: 'lienthong-config' } }],
          env,
          startupProbe: probe('/healthz', { failureThreshold: 30 }),
          livenessProbe: probe('/healthz'),
          readinessProbe: probe('/readyz'),
          resources: {
            requests: { cpu: w.resources.cpu, memory: w.resources.memory },
            limits: { cpu: w.resources.cpuLimit, memory: w.resources.memoryLimit },
          },
          securityContext: containerSecurity(true),
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
  const controller: Resource = w.spool
    ? {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta(w.name, 'bus'),
        spec: {
          serviceName: w.name,
          replicas: w.replicas,
          selector: selectorOf(w.name),
          template: pod,
          volumeClaimTemplates: [
            {
              metadata: { name: 'spool' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
            },
          ],
        },
      }
    : {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(w.name, 'bus'),
        spec: {
          replicas: w.replicas,
          selector: selectorOf(w.name),
          // The single writer is stopped before its successor starts.
          strategy: w.singleWriter ? { type: 'Recreate' } : { type: 'RollingUpdate' },
          template: pod,
        },
      };
  return [
    controller,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(w.name, 'bus'),
      spec: {
        selector: selectorOf(w.name).matchLabels,
        ports: [{ name: 'http', port: w.port, targetPort: 'http' }],
      },
    },
    disruptionBudget(w.name, 'bus', w.replicas > 1 ? { minAvailable: 1 } : { maxUnavailable: 1 }),
    ...(w.maxReplicas
      ? [
          {
            apiVersion: 'autoscaling/v2',
            kind: 'HorizontalPodAutoscaler',
            metadata: meta(w.name, 'bus'),
            spec: {
              scaleTargetRef: { apiVersion: 'apps/v1', kind: controller.kind, name: w.name },
              minReplicas: w.replicas,
              maxReplicas: w.maxReplicas,
              metrics: [
                {
                  type: 'Resource',
                  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
                },
              ],
            },
          },
        ]
      : []),
  ];
}

/**
 * The network policies: nothing in the namespace sends or receives but what DESIGN's flows need.
 * Kafka's own policy comes from its listener's `networkPolicyPeers` (Strimzi writes it).
 */
export function networkPolicies(list: readonly Workload[] = workloads()): Resource[] {
  const policy = (name: string, spec: Record<string, unknown>): Resource => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(name, 'network'),
    spec,
  });
  const pods = (name: string) => ({ podSelector: { matchLabels: { 'app.kubernetes.io/name': name } } });
  const dns = {
    to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  const kafka = {
    to: [
      {
        podSelector: {
          matchLabels: { 'strimzi.io/cluster': KAFKA_CLUSTER, 'strimzi.io/broker-role': 'true' },
        },
      },
    ],
    ports: [{ protocol: 'TCP', port: KAFKA_TLS_PORT }],
  };
  const portOf = new Map(list.map((w) => [w.name, w.port]));
  const egress = (w: Workload) => [
    dns,
    ...(w.to.includes('kafka') ? [kafka] : []),
    ...(w.to.includes('mongodb')
      ? [{ to: [pods('mongodb')], ports: [{ protocol: 'TCP', port: MONGODB_PORT }] }]
      : []),
    ...(w.to.includes(WEBHOOKS)
      ? [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] }]
      : []),
    ...w.to
      .filter((name) => portOf.has(name))
      .map((name) => ({ to: [pods(name)], ports: [{ protocol: 'TCP', port: portOf.get(name) }] })),
  ];
  // Who may send to a workload follows from what each workload sends to: one declaration.
  const ingress = (w: Workload) => {
    const peers = list.filter((other) => other.to.includes(w.name)).map((other) => pods(other.name));
    return [
      // Prometheus scrapes /metrics.
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ protocol: 'TCP', port: w.port }],
      },
      // The agencies' systems and people's browsers arrive through the ingress controller.
      ...(w.public
        ? [
            {
              from: [
                { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
              ],
              ports: [{ protocol: 'TCP', port: w.port }],
            },
          ]
        : []),
      ...(peers.length > 0 ? [{ from: peers, ports: [{ protocol: 'TCP', port: w.port }] }] : []),
    ];
  };
  return [
    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    ...list.map((w) =>
      policy(w.name, {
        podSelector: selectorOf(w.name),
        policyTypes: ['Ingress', 'Egress'],
        ingress: ingress(w),
        egress: egress(w),
      }),
    ),
    policy('mongodb', {
      podSelector: selectorOf('mongodb'),
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            ...list.filter((w) => w.to.includes('mongodb')).map((w) => pods(w.name)),
            pods('mongodb'),
            pods('mongodb-init'),
          ],
          ports: [{ protocol: 'TCP', port: MONGODB_PORT }],
        },
      ],
      egress: [dns, { to: [pods('mongodb')], ports: [{ protocol: 'TCP', port: MONGODB_PORT }] }],
    }),
    policy('mongodb-init', {
      podSelector: selectorOf('mongodb-init'),
      policyTypes: ['Ingress', 'Egress'],
      egress: [dns, { to: [pods('mongodb')], ports: [{ protocol: 'TCP', port: MONGODB_PORT }] }],
    }),
  ];
}

/** The base's files, by name, each a list of resources; `kustomization.yaml` lists them. */
export function baseFiles(): Record<string, Resource[]> {
  const list = workloads();
  return {
    'namespace.yaml': [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: PART_OF } },
    ],
    'kafka.yaml': kafkaResources(),
    'topics.yaml': topicResources(),
    'users.yaml': userResources(),
    'mongodb.yaml': mongodbResources(),
    'config.yaml': [sharedConfig()],
    ...Object.fromEntries(list.map((w) => [`${w.name}.yaml`, workloadResources(w)])),
    'network-policies.yaml': networkPolicies(list),
  };
}

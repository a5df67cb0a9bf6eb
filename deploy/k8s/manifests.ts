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
import { busGrants, busPrincipals, busTopics } from '../local/topics';
import {
  commonEnv,
  MONGODB_PORT,
  MONGODB_SECRET,
  ownEnvOf,
  REGISTRY_PORT,
  REGISTRY_TOPIC,
  secretFilesOf,
  SPOOL_DIR,
  WEBHOOKS,
  type Workload,
  workloads as sharedWorkloads,
} from '../workloads';

/** A Kubernetes object, as plain data. */
export type Resource = Record<string, unknown> & { apiVersion: string; kind: string };

export const NAMESPACE = 'lienthong';
/** Strimzi names its services and secrets after the cluster: `lienthong-kafka-bootstrap`, … */
export const KAFKA_CLUSTER = 'lienthong';
/** The Kafka version the local stack tests with, which Strimzi 0.45 runs in KRaft mode. */
export const KAFKA_VERSION = '3.9.0';
const KAFKA_BROKERS = 3;
const KAFKA_TLS_PORT = 9093;
const IMAGE = 'lienthong';
const PART_OF = { 'app.kubernetes.io/part-of': 'lienthong' };

/** The workloads, with the cluster's service names for the APIs they call. */
export function workloads(): Workload[] {
  return sharedWorkloads(serviceUrl);
}

function serviceUrl(name: string, port: number): string {
  return `http://${name}.${NAMESPACE}.svc:${port}`;
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
                  secretEnv('MONGO_INITDB_ROOT_USERNAME', MONGODB_SECRET, 'root-username'),
                  secretEnv('MONGO_INITDB_ROOT_PASSWORD', MONGODB_SECRET, 'root-password'),
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
                  secretEnv('ROOT_USER', MONGODB_SECRET, 'root-username'),
                  secretEnv('ROOT_PASSWORD', MONGODB_SECRET, 'root-password'),
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
      KAFKA_SSL_CA_FILE: '/etc/lienthong/kafka-ca/ca.crt',
      SCHEMA_REGISTRY_URL: serviceUrl('registry', REGISTRY_PORT),
      ...commonEnv(),
    },
  };
}

/** A workload's Deployment (or, with a spool, StatefulSet), Service, budget and autoscaler. */
export function workloadResources(w: Workload): Resource[] {
  const secretMounts = secretFilesOf(w).map((f) => ({ ...f, dir: `/etc/lienthong/secrets/${f.secret}` }));
  const secrets = [...new Set(secretMounts.map((m) => m.secret))];
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
    // Only the keys it reads: the store's secret holds its root password too, and the registry
    // clients' secret every client's key.
    ...secrets.map((secret) => ({
      name: `secret-${secret}`,
      secret: {
        secretName: secret,
        items: secretMounts.filter((m) => m.secret === secret).map((m) => ({ key: m.key, path: m.key })),
      },
    })),
    { name: 'tmp', emptyDir: {} },
  ];
  const mounts = [
    ...kafkaFiles.map((f) => ({ name: f.name, mountPath: `/etc/lienthong/${f.name}`, readOnly: true })),
    ...secrets.map((secret) => ({
      name: `secret-${secret}`,
      mountPath: `/etc/lienthong/secrets/${secret}`,
      readOnly: true,
    })),
    { name: 'tmp', mountPath: '/tmp' },
    ...(w.spool ? [{ name: 'spool', mountPath: SPOOL_DIR }] : []),
  ];
  const env = [
    ...(w.principal === undefined
      ? []
      : [
          { name: 'KAFKA_CLIENT_ID', value: w.name },
          { name: 'KAFKA_SASL_USERNAME', value: w.principal },
          { name: 'KAFKA_SASL_PASSWORD_FILE', value: '/etc/lienthong/kafka-user/password' },
        ]),
    ...secretMounts.map((m) => ({ name: m.variable, value: `${m.dir}/${m.key}` })),
    ...Object.entries(ownEnvOf(w)).map(([name, value]) => ({ name, value })),
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

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type ISocketFactory } from 'kafkajs';
import { type AgencyDefinition } from '../../connectors/runtime/agency';
import { type ConnectorTls } from '../../connectors/runtime/app';
import { createConnector, type Connector } from '../../connectors/runtime/connector';
import { connectionRetryOptions } from '../../connectors/runtime/publisher';
import { type Clock } from '../../services/platform/clock';
import { generateCredentials } from '../../services/platform/credentials';
import { agencyPrincipal } from '../../deploy/local/topics';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import {
  QUARANTINE_GROUP_PREFIX,
  quarantineTopicDeclaration,
  quarantineTopicFor,
} from '../../connectors/runtime/quarantine';
import { redriveLogTopicDeclaration } from '../../services/platform/redrive-log';
import { agencyGrants, OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { createLogger } from '../../services/platform/logger';
import { ended, endpoint, freePort, scratchDir, uniqueName, waitUntilReady } from './fixtures';
import { grantAcls, kafkaEnvOf, testConnection, testKafka } from './kafka';

const ROOT = resolve(__dirname, '..', '..');

/** A connector running as a process of its own. */
export interface ConnectorProcess {
  url: string;
  /** SIGTERM, the clean stop, and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no stop at all. */
  kill(): Promise<void>;
  /** SIGSTOP: the process holds still, its leases unrenewed, until `resume()` (SIGCONT). */
  pause(): void;
  resume(): void;
}

/** The key of a client of the shared test registry, from the file global setup wrote. */
export function registryKey(clientId: string): string {
  const keysFile = process.env.SCHEMA_REGISTRY_KEYS_FILE;
  if (!keysFile) throw new Error('SCHEMA_REGISTRY_KEYS_FILE is not set: run through jest global setup');
  const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string>;
  return keys[clientId] ?? '';
}

/** The shared test registry's reader credential, written by global setup. */
export function registryClient(): SchemaRegistry {
  return new SchemaRegistry({
    host: endpoint('SCHEMA_REGISTRY_URL'),
    auth: { username: 'lienthong-reader', password: registryKey('lienthong-reader') },
  });
}

/**
 * A connector of a test file's own: its own topic (or `topic`), spool directory and API keys, on
 * the shared (or a given) broker and the shared registry. `restart()` builds a new one on the same
 * spool.
 */
export function connectorHarness(
  definition: AgencyDefinition,
  options: {
    brokers?: () => string;
    tls?: ConnectorTls;
    clock?: Clock;
    /** The topic to publish to, such as a sharing harness's own; a new one by default. */
    topic?: string;
    /** Routes the connector's Kafka connections, through a proxy for instance. */
    socketFactory?: ISocketFactory;
    sendTimeoutMs?: number;
    /** How long an ended import's spool file is kept, by `clock`. */
    importRetentionMs?: number;
    /** Also accept an operator's key (`operatorKey`), which sees every agency's quarantine. */
    operator?: boolean;
    /** How long an import's lease lasts unrenewed, in wall time. */
    importLeaseMs?: number;
  } = {},
) {
  const topic = options.topic ?? uniqueName(`it-${definition.name}`);
  const spool = scratchDir(`spool-${definition.name}`);
  const spoolDir = join(spool.path, 'imports');
  const { entries, keys } = generateCredentials([
    { id: definition.agency, role: 'agency', agency: definition.agency },
    { id: 'OTHER-AGENCY', role: 'agency', agency: 'OTHER-AGENCY' },
    { id: 'HN-DKKD', role: 'agency', agency: 'HN-DKKD' },
    ...(options.operator ? [{ id: 'lienthong-operator', role: 'operator' as const }] : []),
  ]);
  let current: Connector | undefined;
  const processes: ChildProcess[] = [];
  let prepared = false;
  const principal = agencyPrincipal(definition.topic);
  const redriveLogTopic = `${topic}.redrive-log`;
  const declared = [
    { topic, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS } as const,
    quarantineTopicDeclaration(topic),
    redriveLogTopicDeclaration(redriveLogTopic),
  ];

  /** What the operator does for a connector: its topics, with the policy, and its ACLs. */
  const prepare = async (brokers: string): Promise<void> => {
    if (prepared) return;
    await withAdmin(testConnection(OPERATOR_PRINCIPAL, brokers), 'it-topics', (admin) =>
      ensurePolicyTopics(admin, declared),
    );
    await grantAcls(
      agencyGrants(principal, topic, quarantineTopicFor(topic), {
        quarantineGroupPrefix: `${QUARANTINE_GROUP_PREFIX}${principal}-`,
        redriveLogTopic,
      }),
      brokers,
    );
    prepared = true;
  };

  const build = async (): Promise<Connector> => {
    const logger = createLogger({ name: `it-connector-${definition.name}`, level: 'silent' });
    const brokers = options.brokers?.() ?? endpoint('KAFKA_BROKERS');
    await prepare(brokers);
    return createConnector({
      definition,
      // The connector's own principal: the test runs under the ACLs the bus declares.
      kafka: testKafka('it-connector', {
        principal,
        brokers,
        logger,
        connectionTimeout: 1_000,
        retry: connectionRetryOptions(),
        ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
      }),
      registry: registryClient(),
      logger,
      credentials: entries,
      spoolDir,
      limits: { bodyLimit: 256 * 1024, maxRecords: 100, importLimit: 64 * 1_048_576 },
      host: '127.0.0.1',
      port: 0,
      topicOverride: topic,
      redriveLogTopic,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
      ...(options.importRetentionMs === undefined ? {} : { importRetentionMs: options.importRetentionMs }),
      ...(options.importLeaseMs === undefined ? {} : { importLeaseMs: options.importLeaseMs }),
    });
  };

  /** Another instance: `test/support/connector-main.ts` in a process of its own, on the same topic, spool and keys. */
  const spawnInstance = async (): Promise<ConnectorProcess> => {
    await prepare(endpoint('KAFKA_BROKERS'));
    const keysFile = join(spool.path, 'api-keys.json');
    writeFileSync(keysFile, JSON.stringify({ clients: entries }));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        // tsx as a loader, not its CLI, which would run the connector in a child: signals reach it.
        '--import',
        'tsx',
        join(ROOT, 'test', 'support', 'connector-main.ts'),
        definition.name,
        topic,
        redriveLogTopic,
      ],
      {
        env: {
          ...process.env,
          ...kafkaEnvOf(principal),
          SCHEMA_REGISTRY_URL: endpoint('SCHEMA_REGISTRY_URL'),
          SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
          SCHEMA_REGISTRY_KEY: registryKey('lienthong-reader'),
          CONNECTOR_API_KEYS_FILE: keysFile,
          CONNECTOR_SPOOL_DIR: spoolDir,
          CONNECTOR_MAX_RECORDS: '100',
          ...(options.importLeaseMs === undefined
            ? {}
            : { CONNECTOR_IMPORT_LEASE_MS: String(options.importLeaseMs) }),
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    processes.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, 'The connector process', () => child.exitCode !== null);
    return {
      url,
      stop: () => ended(child, 'SIGTERM'),
      kill: () => ended(child, 'SIGKILL'),
      pause: () => void child.kill('SIGSTOP'),
      resume: () => void child.kill('SIGCONT'),
    };
  };

  return {
    topic,
    quarantineTopic: `${topic}.quarantine`,
    redriveLogTopic,
    /** Where the connector spools its imports: one directory across restarts. */
    spoolDir,
    apiKey: `${definition.agency}.${keys[definition.agency]}`,
    otherAgencyKey: `OTHER-AGENCY.${keys['OTHER-AGENCY']}`,
    operatorKey: `lienthong-operator.${keys['lienthong-operator']}`,

    async start(): Promise<Connector> {
      current = await build();
      await current.start();
      return current;
    },
    url(): string {
      if (!current) throw new Error('The connector is not started');
      return current.url();
    },
    async stop(): Promise<void> {
      await current?.stop();
      current = undefined;
    },
    spawn: spawnInstance,
    async dispose(): Promise<void> {
      await current?.stop();
      await Promise.all(processes.map((child) => ended(child, 'SIGTERM')));
      spool.remove();
    },
  };
}

/** A request to a connector, with the answer's body parsed. */
export async function send(
  url: string,
  path: string,
  options: {
    method?: string;
    apiKey?: string;
    body?: string | Buffer;
    contentType?: string;
    headers?: Record<string, string>;
  },
): Promise<{ status: number; contentType: string; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? 'POST',
    headers: {
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

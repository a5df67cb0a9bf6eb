import { readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { resolveSchemaPath, TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { registryGrants } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { REGISTRY_GROUP_PREFIX } from '../../services/registry/schema-log';
import { createLogger } from '../../services/platform/logger';
import { generateCredentials, type Role } from '../../services/platform/credentials';
import { createRegistry, type Registry } from '../../services/registry/registry';
import { uniqueName } from './fixtures';
import { grantAcls, testConnection, testKafka } from './kafka';

export const TEST_CLIENTS = [
  { id: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' },
  { id: 'HN-DKKD', role: 'agency', agency: 'HN-DKKD' },
  { id: 'reader', role: 'reader' },
  { id: 'operator', role: 'operator' },
] as const satisfies readonly { id: string; role: Role; agency?: string }[];

export type TestClientId = (typeof TEST_CLIENTS)[number]['id'];

/**
 * Registries of a test file's own: a fresh log topic and fresh credentials, so that
 * restarts and second instances can be driven without touching the shared stack.
 */
export function registryHarness(options: { declaredOwners?: ReadonlyMap<string, string> } = {}) {
  const topic = uniqueName('_schemas-it');
  const { entries, keys } = generateCredentials(TEST_CLIENTS);
  const running: Registry[] = [];
  let prepared = false;

  return {
    topic,
    keys: keys as Record<TestClientId, string>,

    /** Starts one more instance on the same log. */
    async start(): Promise<Registry> {
      const logger = createLogger({ name: 'it-registry', level: 'silent' });
      if (!prepared) {
        // The operator makes the log topic and grants it; the registry runs as its own principal.
        await withAdmin(testConnection(), 'it-topics', (admin) =>
          ensurePolicyTopics(admin, [{ topic, kind: 'registry-state', numPartitions: 1 }]),
        );
        await grantAcls(
          registryGrants(SERVICE_PRINCIPALS.registry, {
            stateTopic: topic,
            groupPrefix: REGISTRY_GROUP_PREFIX,
          }),
        );
        prepared = true;
      }
      const registry = await createRegistry({
        kafka: testKafka('it-registry', { principal: SERVICE_PRINCIPALS.registry, logger }),
        logger,
        topic,
        credentials: entries,
        declaredOwners: options.declaredOwners ?? new Map(),
        defaultLevel: 'BACKWARD',
        bodyLimit: 64 * 1024,
        host: '127.0.0.1',
        port: 0,
      });
      await registry.start();
      running.push(registry);
      return registry;
    },

    /** A Confluent client that authenticates as `client`; a new one has an empty cache. */
    client(registry: Registry, client: TestClientId): SchemaRegistry {
      return new SchemaRegistry({
        host: registry.url(),
        auth: { username: client, password: keys[client] as string },
      });
    },

    /** Raw HTTP, for what the client library does not expose. */
    async http(
      registry: Registry,
      client: TestClientId | null,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<{
      status: number;
      body: Record<string, unknown> & { error_code?: number; message?: string };
    }> {
      const auth: Record<string, string> = client
        ? { authorization: `Basic ${Buffer.from(`${client}:${keys[client]}`).toString('base64')}` }
        : {};
      const response = await fetch(`${registry.url()}${path}`, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...auth, ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text };
      }
      return { status: response.status, body: parsed as Record<string, unknown> };
    },

    /**
     * Registers the four contracts as the operator, in the catalog's order, as a registry restored
     * from an older state gets them again: on an empty log they get the ids they had. Their ids.
     */
    async registerContracts(registry: Registry): Promise<number[]> {
      const ids: number[] = [];
      for (const name of TOPIC_NAMES) {
        const answer = await this.http(
          registry,
          'operator',
          'POST',
          `/subjects/${TOPICS[name].valueSubject}/versions`,
          {
            schema: readFileSync(resolveSchemaPath(name), 'utf8'),
          },
        );
        ids.push(answer.body.id as number);
      }
      return ids;
    },

    async stopAll(): Promise<void> {
      for (const registry of running.splice(0)) await registry.stop();
    },
  };
}

import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { CONNECTOR_PORTS } from '../../../connectors/runtime/config';
import { TOPIC_NAMES } from '../../../schemas/topics';
import { OPERATOR_PRINCIPAL } from '../../../services/platform/acl-policy';
import { CONSOLE_PORT } from '../../../services/console/config';
import { LOOKUP_PORT } from '../../../services/lookup/config';
import { SHARING_PORT } from '../../../services/sharing/config';
import { SUBSCRIPTIONS_PORT } from '../../../services/subscriptions/config';
import { busGrants, busPrincipals, busTopics } from '../../../deploy/local/topics';
import { secretPath } from '../../../deploy/compose/compose';
import { COMPOSE_PATH, composeDrifted } from '../../../deploy/compose/generate';
import { busStoreOf } from '../../../deploy/compose/init';
import { mountedFiles, setupCompose } from '../../../deploy/compose/setup';
import { REGISTRY_CLIENTS, REGISTRY_PORT } from '../../../deploy/workloads';

interface Service {
  environment?: Record<string, string>;
  secrets?: string[];
  ports?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

/** The committed file, as `docker compose` reads it. */
const committed = parse(readFileSync(COMPOSE_PATH, 'utf8')) as Compose;
const services = Object.entries(committed.services);
const env = (name: string): Record<string, string> => committed.services[name]?.environment ?? {};

describe('the compose file', () => {
  it('is what the declarations in code give: `npm run compose:generate` was run and committed', () => {
    expect(composeDrifted()).toBe(false);
  });

  it('notices a hand edit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    try {
      const copy = join(dir, 'compose.yaml');
      copyFileSync(COMPOSE_PATH, copy);
      expect(composeDrifted(copy)).toBe(false);
      writeFileSync(
        copy,
        readFileSync(copy, 'utf8').replace('KAFKA_SASL_USERNAME: tax', 'KAFKA_SASL_USERNAME: dossier'),
      );
      expect(composeDrifted(copy)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connects every principal the ACLs name, each service as its own, with its own password file', () => {
    const users = services.flatMap(([, s]) => s.environment?.KAFKA_SASL_USERNAME ?? []);
    expect(new Set(users).size).toBe(users.length);
    expect([...users].sort()).toEqual([...busPrincipals()].sort());
    for (const granted of new Set(busGrants('_schemas').map((g) => g.principal)))
      expect(users).toContain(granted);
    expect(env('init').KAFKA_SASL_USERNAME).toBe(OPERATOR_PRINCIPAL);
    expect(env('connector-tax').KAFKA_SASL_USERNAME).toBe('tax');
    for (const [name, s] of services) {
      const user = s.environment?.KAFKA_SASL_USERNAME;
      if (user === undefined) continue;
      const secret = `kafka-password.${user}`;
      expect({ name, file: s.environment?.KAFKA_SASL_PASSWORD_FILE }).toEqual({
        name,
        file: `/run/secrets/${secret}`,
      });
      expect(s.secrets).toContain(secret);
      expect(committed.secrets[secret]?.file).toBe(`./.secrets/kafka/secrets/${user}.password`);
      expect(s.environment?.KAFKA_SECURITY_PROTOCOL ?? 'SASL_SSL').toBe('SASL_SSL');
    }
  });

  it('gives every service the port its code defaults to, health-checks /readyz there and publishes it', () => {
    const ports: Record<string, number> = {
      registry: REGISTRY_PORT,
      sharing: SHARING_PORT,
      lookup: LOOKUP_PORT,
      subscriptions: SUBSCRIPTIONS_PORT,
      console: CONSOLE_PORT,
      ...Object.fromEntries(TOPIC_NAMES.map((t) => [`connector-${t}`, CONNECTOR_PORTS[t]])),
    };
    for (const [name, port] of Object.entries(ports)) {
      const s = committed.services[name];
      expect({ name, port: s?.environment?.PORT }).toEqual({ name, port: String(port) });
      expect(s?.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
      if (name !== 'sharing') expect(s?.ports).toEqual([`${port}:${port}`]);
    }
    // The sharing service has no public API.
    expect(committed.services.sharing?.ports).toBeUndefined();
  });

  it("keeps the registry's state in the topic the declarations create, and each client's own registry key", () => {
    const registryTopic = env('registry').SCHEMA_REGISTRY_TOPIC ?? '';
    expect(busTopics(registryTopic).find((t) => t.kind === 'registry-state')?.topic).toBe(registryTopic);
    expect(env('subscriptions').SCHEMA_REGISTRY_CLIENT_ID).toBe(REGISTRY_CLIENTS.subscriptions);
    expect(env('lookup').SCHEMA_REGISTRY_CLIENT_ID).toBe(REGISTRY_CLIENTS.reader);
    for (const [, s] of services) {
      const client = s.environment?.SCHEMA_REGISTRY_CLIENT_ID;
      if (client)
        expect(s.environment?.SCHEMA_REGISTRY_KEY_FILE).toBe(
          `/run/secrets/lienthong-registry-clients.${client}`,
        );
    }
  });

  it('holds no secret in a variable: every password, key and connection string is a file', () => {
    for (const [name, s] of services) {
      for (const variable of Object.keys(s.environment ?? {})) {
        if (/(^|_)(PASSWORD|KEYS?|SECRETS?|URI|CREDENTIALS)(_|$)/.test(variable))
          expect({ name, variable }).toEqual({ name, variable: expect.stringMatching(/_FILE$/) });
      }
    }
  });

  it('starts the services after the one-shots that create topics, ACLs, the replica set and the contracts', () => {
    for (const name of [
      'registry',
      'sharing',
      'lookup',
      'subscriptions',
      ...TOPIC_NAMES.map((t) => `connector-${t}`),
    ]) {
      expect(committed.services[name]?.depends_on?.init).toEqual({
        condition: 'service_completed_successfully',
      });
    }
    expect(committed.services.init?.command).toEqual(['deploy/compose/init.js']);
    expect(committed.services['connector-tax']?.depends_on?.schemas).toEqual({
      condition: 'service_completed_successfully',
    });
  });
});

describe('npm run compose:setup', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-setup-')), '.secrets');
  beforeAll(() => {
    expect(setupCompose(dir)).toEqual([]);
  });
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const read = (name: string): string => readFileSync(join(dir, secretPath(name)), 'utf8');

  it('makes every file the compose file mounts, readable by the containers and by no one else on the host', () => {
    for (const file of mountedFiles(dir)) expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'kafka', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'operator', 'connector-api-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('makes the broker answer where the services look for it, under a certificate for that name, SASL_SSL only', () => {
    const [host, port] = (env('registry').KAFKA_BROKERS ?? '').split(':');
    const properties = read('kafka-server-properties');
    expect(properties).toContain(`advertised.listeners=SASL_SSL://${host}:${port}`);
    expect(properties).not.toMatch(/PLAINTEXT/);
    expect(properties).toContain('allow.everyone.if.no.acl.found=false');
    expect(properties).toContain(
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    );
    expect(properties).toContain('ssl.keystore.location=/run/secrets/kafka-node');
    const certificate = new X509Certificate(read('kafka-node'));
    expect(certificate.subjectAltName).toContain(`DNS:${host}`);
    expect(certificate.checkIssued(new X509Certificate(read('kafka-ca')))).toBe(true);
  });

  it("formats the broker's log with a SCRAM credential for every principal, each the password its service reads", () => {
    const args = read('kafka-format-args');
    for (const principal of busPrincipals()) {
      const password = read(`kafka-password.${principal}`);
      expect(args).toContain(`'SCRAM-SHA-512=[name=${principal},password=${password}]'`);
    }
  });

  it('gives the bus a store user on the replica set the mongodb service runs', () => {
    const store = busStoreOf(read('lienthong-mongodb.uri'));
    const mongodb = committed.services.mongodb;
    expect(mongodb?.command?.join(' ')).toContain(`--replSet ${store.replicaSet}`);
    expect(store.member).toBe('mongodb:27017');
    expect(store.password.length).toBeGreaterThanOrEqual(32);
  });

  it('keeps what it made when run again', () => {
    const before = read('kafka-password.tax') + read('kafka-ca') + read('lienthong-mongodb.uri');
    expect(setupCompose(dir)).toEqual([]);
    expect(read('kafka-password.tax') + read('kafka-ca') + read('lienthong-mongodb.uri')).toBe(before);
  });
});

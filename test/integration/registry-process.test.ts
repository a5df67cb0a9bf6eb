import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { LocalRegistry } from '../../deploy/local/local-registry';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { runContractTool } from '../../schemas/contract-tool';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { freePort, scratchDir, uniqueName } from '../support/fixtures';
import { grantAcls, kafkaEnvOf, testConnection } from '../support/kafka';
import { registryGrants } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { REGISTRY_GROUP_PREFIX } from '../../services/registry/schema-log';

const ROOT = resolve(__dirname, '..', '..');

/** The registry as operators run it: `services/registry/main.ts` in a process of its own. */
describe('the registry process', () => {
  const scratch = scratchDir('registry-process');
  let registry: LocalRegistry;

  const topic = uniqueName('_schemas-process');

  beforeAll(async () => {
    // The operator makes its log topic and grants it, as `stack:up` does for `_schemas`.
    await withAdmin(testConnection(), 'it-topics', (admin) =>
      ensurePolicyTopics(admin, [{ topic, kind: 'registry-state', numPartitions: 1 }]),
    );
    await grantAcls(
      registryGrants(SERVICE_PRINCIPALS.registry, { stateTopic: topic, groupPrefix: REGISTRY_GROUP_PREFIX }),
    );
    registry = new LocalRegistry({
      stateDir: join(scratch.path, 'registry'),
      port: await freePort(),
      kafkaEnv: kafkaEnvOf(SERVICE_PRINCIPALS.registry),
      run: 'source',
      progress: () => undefined,
      // A log of its own, so that its ids do not depend on what other files registered.
      env: { ...process.env, SCHEMA_REGISTRY_TOPIC: topic, LOG_LEVEL: 'warn' },
    });
    await registry.start();
    await registry.waitReady();
  });

  afterAll(async () => {
    await registry?.stop();
    scratch.remove();
  });

  const registered = async (): Promise<Record<string, unknown>> => {
    const keys = registry.keys();
    const auth = `Basic ${Buffer.from(`lienthong-reader:${keys['lienthong-reader']}`).toString('base64')}`;
    const found: Record<string, unknown> = {};
    for (const topic of TOPIC_NAMES) {
      const subject = TOPICS[topic].valueSubject;
      const response = await fetch(`${registry.url}/subjects/${subject}/versions/latest`, {
        headers: { authorization: auth },
      });
      const body = (await response.json()) as { id: number; version: number };
      found[subject] = { id: body.id, version: body.version };
    }
    return found;
  };

  it('serves the same ids and versions after a graceful stop and after SIGKILL', async () => {
    const output: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((line: string) => output.push(line) > 0) as typeof process.stdout.write;
    let code: number;
    try {
      code = await runContractTool('register', { url: registry.url, keys: registry.keys() });
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(output.join('')).toMatch(/tax-value: registered as schema id \d+/);
    const before = await registered();
    expect(Object.values(before)).toHaveLength(4);
    expect(Object.values(before).every((v) => (v as { version: number }).version === 1)).toBe(true);

    expect(await registry.stop()).toBe(true);
    expect(await registry.start()).toBe('started');
    await registry.waitReady();
    expect(await registered()).toEqual(before);

    await registry.kill();
    expect(registry.pid()).toBeUndefined();
    expect(await registry.start()).toBe('started');
    await registry.waitReady();
    expect(await registered()).toEqual(before);
  });

  it('refuses bad configuration with one line that names every bad variable', () => {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'services', 'registry', 'main.ts')],
      {
        env: { PATH: process.env.PATH, KAFKA_BROKERS: 'nonsense', PORT: 'abc' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    for (const variable of ['KAFKA_BROKERS', 'PORT', 'SCHEMA_REGISTRY_CREDENTIALS_FILE']) {
      expect(lines[0]).toContain(variable);
    }
    expect(run.stdout).toBe('');
  });
});

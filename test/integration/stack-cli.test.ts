import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { brokerSecurityFiles, clientSecurityEnv } from '../../deploy/local/broker-security';
import { isAlive } from '../../deploy/local/managed-process';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import { kafkaConnection, kafkajsSecurityOptions } from '../../services/platform/kafka-security';
import { scratchDir } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Runs `npm run stack:<command>`'s script with only the environment given here. */
function stackCli(
  command: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [TSX, join(ROOT, 'deploy', 'local', 'cli.ts'), command, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/**
 * The environment a developer's shell would give, less any endpoint the suite was handed and the
 * suite's cluster size: each test says the size it runs.
 */
function baseEnv(): NodeJS.ProcessEnv {
  const {
    KAFKA_BROKERS: _kafka,
    MONGODB_URI: _store,
    SCHEMA_REGISTRY_URL: _registry,
    LOCAL_KAFKA_BROKERS: _size,
    ...env
  } = process.env;
  return env;
}

/** Whether nothing listens on `port` of 127.0.0.1. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive free ports, a cluster of three taking six. They are picked below
 * the ephemeral range (32768 and up on Linux), where the machine's outgoing connections could take
 * one of them between this check and the nodes' start.
 */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const first = 20_000 + randomInt(12_000 - count);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(first + i)));
    if (free.every(Boolean)) return first;
  }
}

describe('the stack manager CLI', () => {
  const scratch = scratchDir('stack-cli');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Below the ephemeral range too ({@link freePortRun}): the suite's own connections take ports there.
    const port = await freePortRun(4);
    env = {
      ...baseEnv(),
      LIENTHONG_STATE_DIR: join(scratch.path, 'state'),
      LOCAL_KAFKA_PORT: String(port),
      LOCAL_KAFKA_CONTROLLER_PORT: String(port + 1),
      LOCAL_STORE_PORT: String(port + 2),
      LOCAL_REGISTRY_PORT: String(port + 3),
      LOCAL_KAFKA_HEAP_MB: '512',
    };
  });

  afterAll(() => {
    stackCli('down', env);
    scratch.remove();
  });

  it('brings the stack up once, says so the second time, and leaves nothing after down', () => {
    const first = stackCli('up', env);
    expect(first.stderr).not.toMatch(/\n\s+at /);
    // With stderr, so that a failed start says why.
    expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(
      new RegExp(`kafka\\s+127\\.0\\.0\\.1:${env.LOCAL_KAFKA_PORT}\\s+started \\(pid \\d+\\)`),
    );
    expect(first.stdout).toMatch(/store\s+mongodb:\/\/127\.0\.0\.1:\d+\/\s+started \(pid \d+\)/);
    expect(first.stdout).toMatch(
      new RegExp(`registry\\s+http://127\\.0\\.0\\.1:${env.LOCAL_REGISTRY_PORT}\\s+started`),
    );
    expect(first.stdout).toContain(`export KAFKA_BROKERS=127.0.0.1:${env.LOCAL_KAFKA_PORT}`);
    // Kafka over SASL_SSL only, as the operator, with the secrets readable by their owner alone.
    const security = join(env.LIENTHONG_STATE_DIR ?? '', 'kafka-security');
    expect(first.stdout).toContain('export KAFKA_SECURITY_PROTOCOL=SASL_SSL');
    expect(first.stdout).toContain('export KAFKA_SASL_USERNAME=operator');
    expect(first.stdout).toContain(`export KAFKA_SSL_CA_FILE=${join(security, 'ca.crt')}`);
    expect(statSync(join(security, 'secrets')).mode & 0o777).toBe(0o700);
    for (const secret of ['operator', 'tax', 'sharing', 'broker'].map((p) => `${p}.password`)) {
      expect(statSync(join(security, 'secrets', secret)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(security, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.LIENTHONG_STATE_DIR ?? '', 'kafka', 'server.properties')).mode & 0o777).toBe(
      0o600,
    );

    const second = stackCli('up', env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/kafka\s+\S+\s+already running \(pid \d+\)/);
    expect(second.stdout).toMatch(/store\s+\S+\s+already running \(pid \d+\)/);
    expect(second.stdout).toMatch(/registry\s+\S+\s+already running \(pid \d+\)/);

    const status = stackCli('status', env);
    expect(status.code).toBe(0);
    const pids = [...status.stdout.matchAll(/running \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3);
    expect(pids.every(isAlive)).toBe(true);

    const down = stackCli('down', env);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/kafka\s+\S+\s+stopped/);
    expect(down.stdout).toMatch(/store\s+\S+\s+stopped/);
    expect(down.stdout).toMatch(/registry\s+\S+\s+stopped/);
    expect(pids.some(isAlive)).toBe(false);
    // No process of this stack remains: none names its state directory.
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.stdout).not.toContain(env.LIENTHONG_STATE_DIR);

    const after = stackCli('status', env);
    expect(after.code).toBe(3);
    expect(after.stdout).toMatch(/kafka\s+\S+\s+not running/);
  });

  it('runs three nodes with --brokers 3, reports each, and stops them with a plain down', async () => {
    const port = await freePortRun(6);
    const { LOCAL_KAFKA_HEAP_MB: _heap, ...rest } = env;
    const env3 = {
      ...rest,
      LIENTHONG_STATE_DIR: join(scratch.path, 'state3'),
      LOCAL_KAFKA_PORT: String(port),
      LOCAL_KAFKA_CONTROLLER_PORT: String(port + 1),
    };
    const brokers = [port, port + 2, port + 4].map((p) => `127.0.0.1:${p}`);
    try {
      const up = stackCli('up', env3, ['--brokers', '3']);
      expect(up.stderr).not.toMatch(/\n\s+at /);
      expect({ code: up.code, stderr: up.stderr }).toMatchObject({ code: 0 });
      brokers.forEach((broker, i) =>
        expect(up.stdout).toMatch(
          new RegExp(`kafka-${i + 1}\\s+${broker.replaceAll('.', '\\.')}\\s+started \\(pid \\d+\\)`),
        ),
      );
      expect(up.stdout).toContain(`export KAFKA_BROKERS=${brokers.join(',')}`);

      // One secured cluster of three, all nodes with one CA and one set of passwords, whose topics
      // (the registry's state among them) have three replicas.
      const security = brokerSecurityFiles(join(env3.LIENTHONG_STATE_DIR, 'kafka-security'));
      const operator = kafkaConnection(
        loadConfig(KafkaEnv, {
          KAFKA_BROKERS: brokers.join(','),
          ...clientSecurityEnv(security, 'operator'),
        }),
      );
      expect(operator.security.protocol).toBe('SASL_SSL');
      for (const id of [1, 2, 3]) {
        const properties = join(env3.LIENTHONG_STATE_DIR, 'kafka', `node-${id}`, 'server.properties');
        expect(statSync(properties).mode & 0o777).toBe(0o600);
      }
      const kafka = new Kafka({
        brokers,
        logLevel: logLevel.NOTHING,
        ...kafkajsSecurityOptions(operator.security),
      });
      const admin = kafka.admin();
      await admin.connect();
      try {
        expect((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
        const { topics } = await admin.fetchTopicMetadata({ topics: ['_schemas'] });
        expect(topics[0]?.partitions.map((p) => p.replicas.length)).toEqual([3]);
      } finally {
        await admin.disconnect();
      }

      // A single node would take the first node's ports: refused, with the way out.
      const single = stackCli('up', env3);
      expect(single.code).toBe(1);
      expect(single.stderr).toContain('LOCAL_KAFKA_BROKERS=3');
      const status = stackCli('status', env3, ['--brokers=3']);
      expect(status.code).toBe(0);
      expect([...status.stdout.matchAll(/kafka-\d\s+\S+\s+running \(pid \d+\)/g)]).toHaveLength(3);

      const down = stackCli('down', env3);
      expect(down.code).toBe(0);
      for (const i of [1, 2, 3]) expect(down.stdout).toMatch(new RegExp(`kafka-${i}\\s+\\S+\\s+stopped`));
      const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      expect(ps.stdout).not.toContain(env3.LIENTHONG_STATE_DIR);
    } finally {
      stackCli('down', env3);
    }
  });

  it('names a missing tool and the way around it, without a stack trace', () => {
    // A PATH that has node and nothing else.
    const bin = join(scratch.path, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const noJava = stackCli('up', {
      ...env,
      PATH: bin,
      LIENTHONG_CACHE_DIR: join(scratch.path, 'empty-cache'),
    });
    expect(noJava.code).toBe(1);
    expect(noJava.stderr).toContain("'java' was not found on PATH");
    expect(noJava.stderr).toContain('KAFKA_BROKERS=host:port');
    expect(noJava.stderr).not.toMatch(/\n\s+at /);

    const noGo = stackCli('up', {
      ...env,
      PATH: bin,
      KAFKA_BROKERS: '127.0.0.1:1',
      LIENTHONG_CACHE_DIR: join(scratch.path, 'empty-cache'),
    });
    expect(noGo.code).toBe(1);
    expect(noGo.stderr).toContain("'go' was not found on PATH");
    expect(noGo.stderr).toContain('MONGODB_URI=mongodb://host:port');
  });

  it('refuses a Kafka state formatted without security, with the command that resets it', () => {
    const state = join(scratch.path, 'plaintext-state');
    mkdirSync(join(state, 'kafka', 'data'), { recursive: true });
    writeFileSync(join(state, 'kafka', 'data', 'meta.properties'), 'node.id=1\nversion=1\n');
    const refused = stackCli('up', {
      ...env,
      LIENTHONG_STATE_DIR: state,
      // Only Kafka is local: the refusal comes before anything starts.
      MONGODB_URI: 'mongodb://127.0.0.1:1/',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('was made by a version without SASL_SSL');
    expect(refused.stderr).toContain(`rm -rf '${join(state, 'kafka')}'`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses bad configuration with one message that names each bad variable', () => {
    const bad = stackCli('status', { ...env, KAFKA_BROKERS: 'nonsense', LOCAL_STORE_PORT: 'abc' });
    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('KAFKA_BROKERS');
    expect(lines[0]).toContain('LOCAL_STORE_PORT');
  });
});

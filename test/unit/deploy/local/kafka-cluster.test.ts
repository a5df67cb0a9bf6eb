import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  brokerSecurityFiles,
  brokerSecurityProperties,
  passwordFileOf,
} from '../../../../deploy/local/broker-security';
import { kafkaNodeAddresses, kafkaNodeDir, LocalKafkaCluster } from '../../../../deploy/local/kafka-cluster';
import { kafkaServerProperties } from '../../../../deploy/local/local-kafka';
import { stackConfig } from '../../../../deploy/local/stack';
import { ConfigError } from '../../../../services/platform/errors';
import { scratchDir } from '../../../support/fixtures';

const scratch = scratchDir('kafka-cluster');
const security = brokerSecurityFiles(scratch.path);
beforeAll(() => {
  mkdirSync(security.secretsDir, { recursive: true });
  writeFileSync(passwordFileOf(security.secretsDir, 'broker'), 'broker-secret');
});
afterAll(() => scratch.remove());

/** A `server.properties` text as a map, failing on a key written twice. */
function parse(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    if (out.has(key)) throw new Error(`${key} is written twice`);
    out.set(key, line.slice(at + 1));
  }
  return out;
}

const propertiesOf = (size: 1 | 3, nodeId: number) => {
  const quorum = kafkaNodeAddresses(size, 9092, 9093);
  const node = quorum[nodeId - 1];
  if (!node) throw new Error(`no node ${nodeId}`);
  return parse(
    kafkaServerProperties({
      ...node,
      dataDir: `/state/kafka/node-${nodeId}/data`,
      quorum,
      security: brokerSecurityProperties(security, 'CONTROLLER'),
    }),
  );
};

describe('the ports of a local cluster', () => {
  it('keeps a single node on the configured ports', () => {
    expect(kafkaNodeAddresses(1, 9092, 9093)).toEqual([{ nodeId: 1, port: 9092, controllerPort: 9093 }]);
  });

  it('gives node i each port plus 2(i-1), so that no two listeners meet', () => {
    const nodes = kafkaNodeAddresses(3, 29092, 29093);
    expect(nodes).toEqual([
      { nodeId: 1, port: 29092, controllerPort: 29093 },
      { nodeId: 2, port: 29094, controllerPort: 29095 },
      { nodeId: 3, port: 29096, controllerPort: 29097 },
    ]);
  });
});

describe("a node's server.properties", () => {
  it('makes every node of three a broker and a voter of one quorum of three', () => {
    for (const id of [1, 2, 3]) {
      const p = propertiesOf(3, id);
      expect(p.get('process.roles')).toBe('broker,controller');
      expect(p.get('node.id')).toBe(String(id));
      expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
      expect(p.get('listeners')).toBe(
        `SASL_SSL://127.0.0.1:${9090 + 2 * id},CONTROLLER://127.0.0.1:${9091 + 2 * id}`,
      );
      expect(p.get('advertised.listeners')).toBe(`SASL_SSL://127.0.0.1:${9090 + 2 * id}`);
      expect(p.get('log.dirs')).toBe(`/state/kafka/node-${id}/data`);
    }
  });

  it('has the nodes replicate over SASL_SSL as User:broker and vote over mutual TLS, with one key store', () => {
    for (const id of [1, 2, 3]) {
      const p = propertiesOf(3, id);
      expect(p.get('inter.broker.listener.name')).toBe('SASL_SSL');
      expect(p.get('sasl.mechanism.inter.broker.protocol')).toBe('SCRAM-SHA-512');
      expect(p.get('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config')).toContain('username="broker"');
      expect(p.get('controller.listener.names')).toBe('CONTROLLER');
      expect(p.get('listener.security.protocol.map')).toBe('CONTROLLER:SSL,SASL_SSL:SASL_SSL');
      expect(p.get('listener.name.controller.ssl.client.auth')).toBe('required');
      expect(p.get('ssl.keystore.location')).toBe(security.keystoreFile);
      expect([...p.values()].join('\n')).not.toContain('PLAINTEXT');
    }
  });

  it('replicates the internal topics three times on three nodes, and acknowledges on two', () => {
    const p = propertiesOf(3, 2);
    expect(p.get('offsets.topic.replication.factor')).toBe('3');
    expect(p.get('transaction.state.log.replication.factor')).toBe('3');
    expect(p.get('transaction.state.log.min.isr')).toBe('2');
    expect(p.get('default.replication.factor')).toBe('3');
    expect(p.get('min.insync.replicas')).toBe('2');
  });

  it('keeps a single node what it was: node 1, its own quorum, one replica of everything', () => {
    const p = propertiesOf(1, 1);
    expect(p.get('node.id')).toBe('1');
    expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(p.get('transaction.state.log.min.isr')).toBe('1');
    expect(p.get('min.insync.replicas')).toBe('1');
    expect(p.get('auto.create.topics.enable')).toBe('false');
  });
});

describe('the state directories of a local cluster', () => {
  it('keeps the single node in <state>/kafka and gives each of three a directory of its own', () => {
    expect(kafkaNodeDir('/s/kafka', 1, 1)).toBe('/s/kafka');
    expect([1, 2, 3].map((id) => kafkaNodeDir('/s/kafka', 3, id))).toEqual([
      '/s/kafka/node-1',
      '/s/kafka/node-2',
      '/s/kafka/node-3',
    ]);
  });

  it('names the nodes and lists every broker listener in its endpoint', () => {
    const cluster = new LocalKafkaCluster({
      stateDir: join('/nonexistent', 'kafka'),
      size: 3,
      port: 9092,
      controllerPort: 9093,
      heapMb: 512,
      securityDir: join('/nonexistent', 'kafka-security'),
      principals: ['operator'],
      progress: () => undefined,
    });
    expect(cluster.nodes.map((n) => [n.name, n.nodeId])).toEqual([
      ['kafka-1', 1],
      ['kafka-2', 2],
      ['kafka-3', 3],
    ]);
    expect(cluster.endpoint).toBe('127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096');
    expect(cluster.node(2).endpoint).toBe('127.0.0.1:9094');
  });
});

describe('the cluster size setting', () => {
  const configError = (env: NodeJS.ProcessEnv): ConfigError => {
    try {
      stackConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('the configuration was accepted');
  };

  it('is one node unless LOCAL_KAFKA_BROKERS says three', () => {
    expect(stackConfig({}).LOCAL_KAFKA_BROKERS).toBe(1);
    expect(stackConfig({ LOCAL_KAFKA_BROKERS: '3' }).LOCAL_KAFKA_BROKERS).toBe(3);
  });

  it('refuses a size other than 1 or 3, by name', () => {
    expect(configError({ LOCAL_KAFKA_BROKERS: '2' }).issues).toEqual([
      {
        variable: 'LOCAL_KAFKA_BROKERS',
        message: 'LOCAL_KAFKA_BROKERS must be 1 or 3 (one node, or a cluster of three)',
      },
    ]);
  });

  it("refuses ports on which one node's listener would meet another's", () => {
    const { issues } = configError({
      LOCAL_KAFKA_BROKERS: '3',
      LOCAL_KAFKA_PORT: '9092',
      LOCAL_KAFKA_CONTROLLER_PORT: '9094',
    });
    expect(issues.map((i) => i.variable)).toEqual(['LOCAL_KAFKA_CONTROLLER_PORT']);
    // The same ports serve one node.
    expect(stackConfig({ LOCAL_KAFKA_PORT: '9092', LOCAL_KAFKA_CONTROLLER_PORT: '9094' })).toBeDefined();
  });
});

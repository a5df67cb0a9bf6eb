import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { connectionRetryOptions } from '../../connectors/runtime/publisher';
import { ACKS_ALL, createLogger, createProducer, ensureTopics } from '../../services/platform';
import { endpoint, scratchDir, uniqueName } from '../support/fixtures';
import { brokerUpstream, readTopic, startTestProxy, testConnection, testKafka } from '../support/kafka';
import { kafkajsSecurityOptions } from '../../services/platform/kafka-security';
import { API_KEYS, type ProducedBatch, startKafkaProxy } from '../support/kafka-proxy';

const logger = createLogger({ name: 'it-kafka-proxy', level: 'silent' });
const brokers = () => endpoint('KAFKA_BROKERS').split(',');

describe('the Kafka proxy', () => {
  const topic = uniqueName('it-kafka-proxy');

  beforeAll(async () => {
    const admin = testKafka('it-setup', { logger }).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();
  });

  it("swallows a produce answer after the broker wrote the batch; kafkajs's retry of the same batch is answered with the first offset", async () => {
    const proxy = startTestProxy();
    const batches: ProducedBatch[] = [];
    let swallowed = false;
    proxy.onRequest((request) => {
      if (request.produce) batches.push(request.produce);
      if (request.apiKey !== API_KEYS.PRODUCE || swallowed) return undefined;
      swallowed = true;
      return { kind: 'swallow', then: 'reset' };
    });
    const kafka = testKafka('it-kafka-proxy', {
      logger,
      retry: connectionRetryOptions(),
      socketFactory: proxy.socketFactory,
    });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const [ack] = await producer.sendBatch({
        acks: ACKS_ALL,
        topicMessages: [{ topic, messages: [{ key: 'k', value: 'once' }] }],
      });
      expect(proxy.injected()).toEqual({ 'swallow-reset': 1 });
      // Sent twice, with the same producer id and sequence number, and written once.
      expect(batches).toHaveLength(2);
      expect(batches[1]).toEqual(batches[0]);
      const held = (await readTopic(kafka, topic)).filter((m) => m.value === 'once');
      expect(held.map((m) => m.offset)).toEqual([ack?.baseOffset]);
    } finally {
      await producer.disconnect();
      await proxy.close();
    }
  });

  describe('terminating TLS', () => {
    const scratch = scratchDir('kafka-proxy-tls');
    const pem = (name: string) => readFileSync(join(scratch.path, name), 'utf8');
    /** A self-signed certificate for 127.0.0.1 (the broker's advertised host), written as `<name>.key` and `<name>.crt`. */
    const certificate = (name: string): { key: string; cert: string } => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(scratch.path, `${name}.key`),
          '-out',
          join(scratch.path, `${name}.crt`),
        ],
        { stdio: 'ignore' },
      );
      return { key: pem(`${name}.key`), cert: pem(`${name}.crt`) };
    };
    afterAll(() => scratch.remove());

    it('serves the certificate it is given to clients that verify it, and refuses the others', async () => {
      const node = certificate('node');
      const other = certificate('other');
      const upstream = brokerUpstream();
      const proxy = startKafkaProxy({ tls: { server: node, ...(upstream ? { upstream } : {}) } });
      // The test stack's SASL identity, if it has one: SASL frames pass through the proxy.
      const { sasl } = kafkajsSecurityOptions(testConnection().security);
      const client = (ca: string) =>
        new Kafka({
          brokers: brokers(),
          clientId: 'it-kafka-proxy-tls',
          ssl: { ca: [ca] },
          ...(sasl ? { sasl } : {}),
          socketFactory: proxy.socketFactory,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 2_000,
          retry: { retries: 1, initialRetryTime: 100 },
        });
      try {
        const producer = createProducer(client(node.cert));
        await producer.connect();
        const [ack] = await producer.sendBatch({
          acks: ACKS_ALL,
          topicMessages: [{ topic, messages: [{ key: 'k', value: 'over tls' }] }],
        });
        await producer.disconnect();
        expect(ack).toMatchObject({ errorCode: 0 });

        const stranger = client(other.cert).admin();
        await expect(stranger.connect()).rejects.toThrow();
        await stranger.disconnect();
      } finally {
        await proxy.close();
      }
    });
  });
});

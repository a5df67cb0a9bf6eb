import { createServer as createTcpServer, isIP, type Server, Socket } from 'node:net';
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createServer as createTlsServer,
  type TlsOptions,
} from 'node:tls';
import { type ISocketFactory } from 'kafkajs';
import { sendRetryOptions } from '../../services/platform/kafka';

/** Kafka's api keys the tests aim at. */
export const API_KEYS = { PRODUCE: 0, INIT_PRODUCER_ID: 22 } as const;

/**
 * What the proxy does to one request and its response:
 * - `reset`: both connections are reset before the request is forwarded, so the broker never sees it;
 * - `swallow`: the request is forwarded and the broker's answer dropped, then the connection is
 *   reset, or stalled (kept open, with nothing forwarded either way any more) so that the client
 *   waits until it gives up;
 * - `delay`: the answer reaches the client `ms` later, and every later answer of the connection
 *   behind it, as TCP would deliver them;
 * - `hold`: the request itself reaches the broker `ms` later (a slow network towards the broker),
 *   and the connection's later requests behind it.
 */
export type ProxyFault =
  | { kind: 'reset' }
  | { kind: 'swallow'; then: 'reset' | 'stall' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hold'; ms: number };

/** A request as the proxy reads it from its header. */
export interface ProxiedRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** The upstream broker, as `host:port`. */
  broker: string;
  /** For a produce request (v3 to v8), its first record batch's identity. */
  produce?: ProducedBatch;
}

/** Where a produce request's first record batch goes, and the idempotent producer's numbering of it. */
export interface ProducedBatch {
  topic: string;
  partition: number;
  /** -1 when the producer has no producer id: not idempotent. */
  producerId: bigint;
  baseSequence: number;
  records: number;
}

/**
 * Reads the first record batch's header of a produce request, versions 3 to 8 (record batches,
 * before flexible versions): after the request header, transactional_id, acks, timeout, then the
 * first topic and its first partition's record set.
 *
 * @see https://kafka.apache.org/documentation/#recordbatch
 */
function readProduce(frame: Buffer): ProducedBatch | undefined {
  const version = frame.readInt16BE(6);
  if (version < 3 || version > 8) return undefined;
  let at = 12;
  const skipString = (): void => {
    at += 2 + Math.max(0, frame.readInt16BE(at));
  };
  skipString(); // client_id
  skipString(); // transactional_id
  at += 2 + 4; // acks, timeout
  if (frame.readInt32BE(at) < 1) return undefined;
  at += 4;
  const nameLength = frame.readInt16BE(at);
  const topic = frame.toString('utf8', at + 2, at + 2 + nameLength);
  at += 2 + nameLength;
  if (frame.readInt32BE(at) < 1) return undefined;
  const partition = frame.readInt32BE(at + 4);
  const batch = at + 4 + 4 + 4; // partitions count, partition, record set size
  return {
    topic,
    partition,
    producerId: frame.readBigInt64BE(batch + 43),
    baseSequence: frame.readInt32BE(batch + 53),
    records: frame.readInt32BE(batch + 57),
  };
}

export interface KafkaProxyOptions {
  /**
   * Terminates TLS: the proxy is a TLS server with `server` (the broker's own certificate and key,
   * so that clients verifying the broker accept it) and a TLS client of the broker with `upstream`
   * (the CA, and the server name). SASL frames are ordinary Kafka frames and pass through.
   * Plaintext on both sides when absent; a plaintext upstream when only `upstream` is absent.
   */
  tls?: { server: TlsOptions; upstream?: ConnectionOptions };
}

export interface KafkaProxy {
  /**
   * For kafkajs's `socketFactory`: a connection to any broker, bootstrap or named by metadata,
   * goes to the proxy's listener for that broker instead, created on first use.
   */
  socketFactory: ISocketFactory;
  /** Decides the fault of each request; none when it returns `undefined`. Replaces the last one. */
  onRequest(decide: ((request: ProxiedRequest) => ProxyFault | undefined) | undefined): void;
  /** While on, every connection is reset at once, as a broker that cannot be reached. */
  refuse(on: boolean): void;
  /** Faults applied so far, by kind (`swallow-reset`, `swallow-stall`, `reset`, `delay`). */
  injected(): Record<string, number>;
  /** Closes the listeners and every connection. */
  close(): Promise<void>;
}

/** Splits a byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes. */
function createFramer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

/**
 * A test-only TCP proxy between kafkajs clients and a Kafka broker that reads Kafka's framing, so
 * that it can fail one chosen request: swallow a produce answer after the broker wrote the batch,
 * reset a connection, or delay an answer. The broker is not changed: clients reach the proxy
 * through kafkajs's `socketFactory`, and metadata keeps naming the broker.
 *
 * A request's header starts with api_key (int16), api_version (int16) and correlation_id (int32)
 * after the size; an answer's with the correlation_id, so answers are matched to their requests
 * by it.
 *
 * @see https://kafka.apache.org/protocol#protocol_messages
 */
export function startKafkaProxy(options: KafkaProxyOptions = {}): KafkaProxy {
  const listeners = new Map<string, Promise<{ server: Server; port: number }>>();
  const connections = new Set<{ reset: () => void }>();
  const counts: Record<string, number> = {};
  let decide: ((request: ProxiedRequest) => ProxyFault | undefined) | undefined;
  let refusing = false;
  let closed = false;

  const count = (kind: string): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };

  const bridge = (client: Socket, broker: string): void => {
    const [host, portText] = splitAddress(broker);
    const upstream: Socket = options.tls?.upstream
      ? tlsConnect({ ...options.tls.upstream, host, port: portText })
      : new Socket().connect(portText, host);
    /** The faults of requests still waiting for their answer, by correlation id. */
    const faults = new Map<number, ProxyFault>();
    let stalled = false;
    let answers: Promise<void> = Promise.resolve();
    /** Requests held back, and those queued behind them; none when `held` is 0. */
    let requests: Promise<void> = Promise.resolve();
    let held = 0;

    const connection = {
      reset: () => {
        connections.delete(connection);
        if (!client.destroyed) client.resetAndDestroy();
        if (!upstream.destroyed) upstream.destroy();
      },
    };
    connections.add(connection);
    if (refusing) {
      connection.reset();
      return;
    }
    const end = (): void => {
      connections.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', connection.reset).on('close', end);

    client.on(
      'data',
      createFramer((frame) => {
        if (stalled) return;
        const apiKey = frame.readInt16BE(4);
        const produce = apiKey === API_KEYS.PRODUCE ? readProduce(frame) : undefined;
        const request: ProxiedRequest = {
          apiKey,
          apiVersion: frame.readInt16BE(6),
          correlationId: frame.readInt32BE(8),
          broker,
          ...(produce === undefined ? {} : { produce }),
        };
        const fault = decide?.(request);
        if (fault?.kind === 'reset') {
          count('reset');
          connection.reset();
          return;
        }
        if (fault !== undefined) faults.set(request.correlationId, fault);
        const wait = fault?.kind === 'hold' ? fault.ms : 0;
        if (wait === 0 && held === 0) {
          upstream.write(frame);
          return;
        }
        if (wait > 0) count('hold');
        held += 1;
        requests = requests
          .then(() => (wait > 0 ? sleep(wait) : undefined))
          .then(() => {
            held -= 1;
            if (!stalled && !upstream.destroyed) upstream.write(frame);
          });
      }),
    );
    upstream.on(
      'data',
      createFramer((frame) => {
        if (stalled) return;
        const correlationId = frame.readInt32BE(4);
        const fault = faults.get(correlationId);
        faults.delete(correlationId);
        if (fault?.kind === 'swallow') {
          count(`swallow-${fault.then}`);
          if (fault.then === 'reset') connection.reset();
          else stalled = true;
          return;
        }
        if (fault?.kind === 'delay') count('delay');
        const wait = fault?.kind === 'delay' ? fault.ms : 0;
        // Answers leave in the order they came, a delayed one holding back those behind it.
        answers = answers
          .then(() => (wait > 0 ? sleep(wait) : undefined))
          .then(() => {
            if (!stalled && !client.destroyed) client.write(frame);
          });
      }),
    );
  };

  const listen = (broker: string): Promise<{ server: Server; port: number }> => {
    let found = listeners.get(broker);
    if (found === undefined) {
      const server = options.tls
        ? createTlsServer(options.tls.server, (socket) => bridge(socket, broker))
        : createTcpServer((socket) => bridge(socket, broker));
      found = new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          if (address !== null && typeof address === 'object') resolve({ server, port: address.port });
          else reject(new Error('The proxy listener has no port'));
        });
      });
      listeners.set(broker, found);
    }
    return found;
  };

  const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const raw = new Socket();
    listen(`${host}:${port}`).then(
      ({ port: proxyPort }) => {
        if (closed) raw.destroy(new Error('The Kafka proxy is closed'));
        else raw.connect(proxyPort, '127.0.0.1');
      },
      (err: Error) => raw.destroy(err),
    );
    raw.setKeepAlive(true, 60_000);
    if (!ssl) {
      raw.once('connect', onConnect);
      return raw;
    }
    // The certificate is checked against the broker's name, as it would be without the proxy.
    return tlsConnect(
      { ...ssl, socket: raw, host, ...(isIP(host) || ssl.servername ? {} : { servername: host }) },
      onConnect,
    );
  };

  return {
    socketFactory,
    onRequest(next) {
      decide = next;
    },
    refuse(on) {
      refusing = on;
      if (on) for (const connection of [...connections]) connection.reset();
    },
    injected: () => ({ ...counts }),
    async close() {
      closed = true;
      for (const connection of [...connections]) connection.reset();
      const servers = await Promise.all([...listeners.values()].map((p) => p.catch(() => undefined)));
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => (s ? s.server.close(() => resolve()) : resolve()))),
      );
    },
  };
}

/** A timer that does not keep the process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

/**
 * A mix of fault episodes for a fault test, interleaved the same way every run. Each episode is
 * the faults of consecutive produce requests: one fault that kafkajs's own retries get over
 * (`quick` of each kind: a swallowed answer then a reset, a reset, a short delay), or one that
 * ends the send in doubt (`slow` of each: a swallowed answer then a stalled connection, an answer
 * delayed beyond `timeoutMs`, a request held that long, and every one of a send's `attempts`
 * swallowed).
 */
export function faultEpisodes(options: {
  attempts: number;
  timeoutMs: number;
  quick: number;
  slow: number;
}): ProxyFault[][] {
  const { attempts, timeoutMs, quick, slow } = options;
  const times = (n: number, episode: () => ProxyFault[]): ProxyFault[][] =>
    Array.from({ length: n }, episode);
  const episodes = [
    ...times(quick, () => [{ kind: 'swallow', then: 'reset' }]),
    ...times(quick, () => [{ kind: 'reset' }]),
    ...times(quick, () => [{ kind: 'delay', ms: 200 }]),
    ...times(slow, () => [{ kind: 'swallow', then: 'stall' }]),
    ...times(slow, () => [{ kind: 'delay', ms: timeoutMs + 500 }]),
    ...times(slow, () => [{ kind: 'hold', ms: timeoutMs + 500 }]),
    ...times(slow, () =>
      Array.from({ length: attempts }, () => ({ kind: 'swallow', then: 'reset' }) as const),
    ),
  ];
  return episodes
    .map((faults, i) => ({ faults, order: fnv1a(`episode ${i}`) }))
    .sort((a, b) => a.order - b.order)
    .map((e) => e.faults);
}

function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * The produce requests kafkajs makes for one send of a producer with `sendRetryOptions(sendTimeoutMs)`
 * before it gives up: its first, then its retries. Faulting that many in a row ends the send in doubt.
 */
export function attemptsPerSend(sendTimeoutMs: number): number {
  return (sendRetryOptions(sendTimeoutMs).retries ?? 0) + 1;
}

/**
 * Makes `proxy` fault its next produce requests with the faults pushed on the returned queue, one
 * each, in order; other requests pass.
 */
export function produceFaultQueue(proxy: KafkaProxy): ProxyFault[] {
  const queue: ProxyFault[] = [];
  proxy.onRequest((request) => (request.apiKey === API_KEYS.PRODUCE ? queue.shift() : undefined));
  return queue;
}

/** The number of faults of each kind a proxy injected, in all. */
export function totalInjected(injected: Record<string, number>): number {
  return Object.values(injected).reduce((a, b) => a + b, 0);
}

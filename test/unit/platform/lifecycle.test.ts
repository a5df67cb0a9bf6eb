import { Writable } from 'node:stream';
import {
  composeServices,
  ConfigError,
  createLifecycle,
  createLogger,
  ERROR_CODES,
  runMain,
  type Service,
} from '../../../services/platform';

/** A start or stop that resolves only when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A part that records its start and stop in a shared journal. */
function part(name: string, journal: string[], failOn?: 'start' | 'stop'): Service {
  return createLifecycle(name, {
    async start() {
      journal.push(`start ${name}`);
      if (failOn === 'start') throw new Error(`${name} failed to start`);
    },
    async stop() {
      journal.push(`stop ${name}`);
      if (failOn === 'stop') throw new Error(`${name} failed to stop`);
    },
  });
}

describe('createLifecycle', () => {
  it('runs start and stop once however often they are called', async () => {
    const start = jest.fn(async () => undefined);
    const stop = jest.fn(async () => undefined);
    const service = createLifecycle('svc', { start, stop });
    await service.start();
    await service.start();
    await service.stop();
    await service.stop();
    expect(start).toHaveBeenCalledTimes(1);
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it('gives concurrent starts the same promise', async () => {
    const started = gate();
    const start = jest.fn(() => started.promise);
    const service = createLifecycle('svc', { start, stop: async () => undefined });
    const first = service.start();
    const second = service.start();
    expect(second).toBe(first);
    started.open();
    await Promise.all([first, second]);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('makes stop before start a no-op, and refuses to start afterwards', async () => {
    const start = jest.fn(async () => undefined);
    const stop = jest.fn(async () => undefined);
    const service = createLifecycle('svc', { start, stop });
    await service.stop();
    expect(stop).not.toHaveBeenCalled();
    await expect(service.start()).rejects.toMatchObject({ code: ERROR_CODES.SHUTTING_DOWN });
    expect(start).not.toHaveBeenCalled();
  });

  it('lets stop wait for an in-flight start', async () => {
    const journal: string[] = [];
    const started = gate();
    const service = createLifecycle('svc', {
      start: async () => {
        await started.promise;
        journal.push('started');
      },
      stop: async () => void journal.push('stopped'),
    });
    const starting = service.start();
    const stopping = service.stop();
    await Promise.resolve();
    expect(journal).toEqual([]);
    started.open();
    await Promise.all([starting, stopping]);
    expect(journal).toEqual(['started', 'stopped']);
  });

  it('still stops after a failed start, so a half-done start is released', async () => {
    const stop = jest.fn(async () => undefined);
    const service = createLifecycle('svc', {
      start: async () => {
        throw new Error('Kafka is unreachable');
      },
      stop,
    });
    await expect(service.start()).rejects.toThrow('Kafka is unreachable');
    await service.stop();
    expect(stop).toHaveBeenCalledTimes(1);
  });
});

describe('composeServices', () => {
  it('starts in order and stops in reverse order', async () => {
    const journal: string[] = [];
    const service = composeServices('connector', [
      part('store', journal),
      part('kafka', journal),
      part('http', journal),
    ]);
    await service.start();
    await service.stop();
    expect(journal).toEqual([
      'start store',
      'start kafka',
      'start http',
      'stop http',
      'stop kafka',
      'stop store',
    ]);
  });

  it('keeps stopping the rest when one part fails to stop, and reports every failure', async () => {
    const journal: string[] = [];
    const service = composeServices('connector', [
      part('store', journal, 'stop'),
      part('kafka', journal),
      part('http', journal, 'stop'),
    ]);
    await service.start();
    const error = await service.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(journal.slice(3)).toEqual(['stop http', 'stop kafka', 'stop store']);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'http failed to stop',
      'store failed to stop',
    ]);
  });

  it('stops the started parts, the failing one included, when a part fails to start', async () => {
    const journal: string[] = [];
    const service = composeServices('connector', [
      part('store', journal),
      part('kafka', journal, 'start'),
      part('http', journal),
    ]);
    await expect(service.start()).rejects.toThrow('kafka failed to start');
    expect(journal).toEqual(['start store', 'start kafka', 'stop kafka', 'stop store']);
    await service.stop();
    expect(journal).toHaveLength(4);
  });
});

describe('runMain', () => {
  function harness() {
    const logged: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const stderr: string[] = [];
    const exits: number[] = [];
    const telemetry = { shutdown: jest.fn(async () => undefined) };
    return {
      logged,
      stderr,
      exits,
      telemetry,
      options: {
        logger: createLogger({ name: 'test', destination }),
        exit: (code: number) => void exits.push(code),
        stderr: { write: (line: string) => stderr.push(line) },
        telemetry,
      },
    };
  }

  it('prints one line and exits 1 on a configuration error, with no stack trace', async () => {
    const h = harness();
    await runMain({
      ...h.options,
      build: () => {
        throw new ConfigError([{ variable: 'MONGODB_URI', message: 'MONGODB_URI is required' }]);
      },
    });
    expect(h.stderr).toEqual(['Invalid configuration: MONGODB_URI is required\n']);
    expect(h.exits).toEqual([1]);
    expect(h.logged).toEqual([]);
  });

  it('logs any other startup failure, stops what had started, closes telemetry last and exits 1', async () => {
    const h = harness();
    const journal: string[] = [];
    h.telemetry.shutdown.mockImplementation(async () => void journal.push('telemetry'));
    await runMain({
      ...h.options,
      build: () => composeServices('connector', [part('store', journal), part('kafka', journal, 'start')]),
    });
    expect(journal).toEqual(['start store', 'start kafka', 'stop kafka', 'stop store', 'telemetry']);
    expect(h.exits).toEqual([1]);
    expect(h.stderr).toEqual([]);
    expect(h.logged.join('')).toContain('kafka failed to start');
  });
});

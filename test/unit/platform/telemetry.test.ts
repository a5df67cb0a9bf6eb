import {
  isConfigured,
  preloadedTelemetry,
  startTelemetry,
  type TelemetrySdk,
} from '../../../services/platform';

/** Collects warnings the way a pino logger would receive them. */
function warnings() {
  const seen: { obj: object; msg: string }[] = [];
  return { seen, logger: { warn: (obj: object, msg: string) => void seen.push({ obj, msg }) } };
}

function fakeSdk(overrides: Partial<TelemetrySdk> = {}): TelemetrySdk & { started: boolean } {
  const sdk = {
    started: false,
    start() {
      sdk.started = true;
    },
    shutdown: async () => undefined,
    ...overrides,
  };
  return sdk;
}

describe('startTelemetry', () => {
  it('is a no-op when nothing is configured', async () => {
    const createSdk = jest.fn(() => fakeSdk());
    const telemetry = startTelemetry({ serviceName: 'lookup', env: { PATH: '/usr/bin' }, createSdk });
    expect(telemetry.enabled).toBe(false);
    expect(createSdk).not.toHaveBeenCalled();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'none' }],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }],
  ])('stays off for %j', (env) => {
    expect(isConfigured(env)).toBe(false);
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'bogus' }, 'OTEL_TRACES_EXPORTER must be one of'],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: '::not a url' },
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' },
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ],
  ])('warns and falls back to a no-op for a broken configuration %j', async (env, expected) => {
    const { seen, logger } = warnings();
    const createSdk = jest.fn(() => fakeSdk());
    const telemetry = startTelemetry({ serviceName: 'lookup', env, logger, createSdk });
    expect(telemetry.enabled).toBe(false);
    expect(createSdk).not.toHaveBeenCalled();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.msg).toContain(expected);
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });

  it('warns on stderr when no logger is given', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const telemetry = startTelemetry({ serviceName: 'lookup', env: { OTEL_TRACES_EXPORTER: 'bogus' } });
      expect(telemetry.enabled).toBe(false);
      expect(write).toHaveBeenCalledWith(expect.stringContaining('Telemetry is off'));
    } finally {
      write.mockRestore();
    }
  });

  it('warns and falls back to a no-op when the SDK fails to start', async () => {
    const { seen, logger } = warnings();
    const telemetry = startTelemetry({
      serviceName: 'lookup',
      env: { OTEL_TRACES_EXPORTER: 'console' },
      logger,
      createSdk: () =>
        fakeSdk({
          start: () => {
            throw new Error('Cannot register the global tracer provider');
          },
        }),
    });
    expect(telemetry.enabled).toBe(false);
    expect(seen.map((w) => w.msg)).toEqual([
      'Telemetry is off because the OpenTelemetry SDK failed to start',
    ]);
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });

  it('starts the SDK when configured, traces only, and its shutdown never rejects', async () => {
    const { seen, logger } = warnings();
    const sdk = fakeSdk({ shutdown: () => Promise.reject(new Error('Collector unreachable')) });
    const createSdk = jest.fn(() => sdk);
    const telemetry = startTelemetry({
      serviceName: 'lookup',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      logger,
      createSdk,
    });
    expect(telemetry.enabled).toBe(true);
    expect(sdk.started).toBe(true);
    expect(createSdk).toHaveBeenCalledWith({
      serviceName: 'lookup',
      metricReaders: [],
      logRecordProcessors: [],
    });
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
    expect(seen.map((w) => w.msg)).toContain('Telemetry did not shut down cleanly');
  });
});

describe('preloadedTelemetry', () => {
  it('is a no-op handle when the process was not preloaded', async () => {
    expect(preloadedTelemetry().enabled).toBe(false);
    await expect(preloadedTelemetry().shutdown()).resolves.toBeUndefined();
  });
});

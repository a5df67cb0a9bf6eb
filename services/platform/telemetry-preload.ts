/**
 * Starts telemetry before the application loads, so instrumentation sees the modules it patches:
 *
 *     node --require ./dist/services/platform/telemetry-preload.js dist/services/lookup/main.js
 *
 * It does not close telemetry on SIGTERM: telemetry must shut down last, after the service has
 * stopped, so `runMain` closes it through {@link preloadedTelemetry}. Only a process that ends by
 * running out of work (`beforeExit`) has it closed here.
 */
import { startTelemetry } from './telemetry';
import { preloadedTelemetry, registerPreloadedTelemetry } from './telemetry-handle';

export { preloadedTelemetry } from './telemetry-handle';

// Preloaded twice (a --require and an import): keep the first SDK rather than start a second.
if (!preloadedTelemetry().enabled) {
  const handle = startTelemetry({
    serviceName: process.env.OTEL_SERVICE_NAME || 'lienthong',
    env: process.env,
  });
  registerPreloadedTelemetry(handle);
  if (handle.enabled) process.once('beforeExit', () => void handle.shutdown());
}

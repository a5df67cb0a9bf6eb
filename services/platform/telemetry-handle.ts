/**
 * The telemetry handle as the rest of the kernel sees it. Kept apart from `telemetry.ts` so that
 * code which only closes telemetry (such as `runMain`) does not load the OpenTelemetry SDK.
 */

/** A started (or deliberately not started) telemetry pipeline. */
export interface TelemetryHandle {
  /** True when an SDK was started and is exporting traces. */
  readonly enabled: boolean;
  /** Flushes and closes the SDK. Never rejects, and resolves at once when not enabled. */
  shutdown(): Promise<void>;
}

/** Telemetry that is off. */
export const NOOP_TELEMETRY: TelemetryHandle = Object.freeze({
  enabled: false,
  shutdown: () => Promise.resolve(),
});

const TELEMETRY_KEY = Symbol.for('lienthong.telemetry');

/**
 * The handle started by `telemetry-preload` (through `node --require`), or a no-op handle when
 * the process was not preloaded. It lives on `globalThis` under a registered symbol so that the
 * preloaded module and the one `main.ts` imports agree even when they are two copies (compiled
 * JavaScript preloaded, TypeScript run through tsx).
 */
export function preloadedTelemetry(): TelemetryHandle {
  return (globalThis as Record<symbol, TelemetryHandle | undefined>)[TELEMETRY_KEY] ?? NOOP_TELEMETRY;
}

/** Records the preloaded handle. Only `telemetry-preload` calls it. */
export function registerPreloadedTelemetry(handle: TelemetryHandle): void {
  (globalThis as Record<symbol, TelemetryHandle | undefined>)[TELEMETRY_KEY] = handle;
}

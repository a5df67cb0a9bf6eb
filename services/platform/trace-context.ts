import { randomBytes } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';

/** W3C trace context: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The `traceparent` to put on outgoing Kafka records: the active span's when telemetry runs;
 * otherwise a child of the caller's valid `traceparent`; otherwise a new trace. Every event
 * thus carries a trace id, which views record as provenance, whether or not spans are exported.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function outgoingTraceparent(incoming: string | undefined): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent && TRACEPARENT.test(carrier.traceparent)) return carrier.traceparent;
  const active = trace.getActiveSpan()?.spanContext();
  if (active && trace.isSpanContextValid(active)) {
    return `00-${active.traceId}-${active.spanId}-0${active.traceFlags & 1}`;
  }
  const parsed = TRACEPARENT.exec(incoming?.trim().toLowerCase() ?? '');
  const traceId = parsed?.[1] && parsed[1] !== ZERO_TRACE ? parsed[1] : randomBytes(16).toString('hex');
  const flags = parsed?.[3] ?? '00';
  let spanId = randomBytes(8).toString('hex');
  if (spanId === ZERO_SPAN) spanId = '0000000000000001';
  return `00-${traceId}-${spanId}-${flags}`;
}

/**
 * The trace id a request belongs to, as `traceIdOf(outgoingTraceparent(incoming))` gives it, but
 * without making a span id it would throw away, and with a new trace's id taken from a pool of
 * random bytes: a lookup records it in every audit record, and two `randomBytes` calls a request
 * showed in its CPU profile.
 */
export function requestTraceId(incoming: string | undefined): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const injected = TRACEPARENT.exec(carrier.traceparent ?? '')?.[1];
  if (injected) return injected;
  const active = trace.getActiveSpan()?.spanContext();
  if (active && trace.isSpanContextValid(active)) return active.traceId;
  const parsed = TRACEPARENT.exec(incoming?.trim().toLowerCase() ?? '');
  if (parsed?.[1] && parsed[1] !== ZERO_TRACE) return parsed[1];
  for (;;) {
    const id = pooledRandomHex(16);
    if (id !== ZERO_TRACE) return id;
  }
}

/** Random bytes drawn 4 KiB at a time, as hex: one system call per 256 trace ids. */
let pool = Buffer.alloc(0);
let pooledAt = 0;
function pooledRandomHex(bytes: number): string {
  if (pooledAt + bytes > pool.length) {
    pool = randomBytes(4_096);
    pooledAt = 0;
  }
  pooledAt += bytes;
  return pool.toString('hex', pooledAt - bytes, pooledAt);
}

/** The trace id of a `traceparent`, or undefined when it is not one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return TRACEPARENT.exec(traceparent ?? '')?.[1];
}

/**
 * Runs `work` in a span that continues the caller's trace (from its `traceparent` header) and
 * hands it the `traceparent` to send on. Without a running SDK the span is a no-op and the
 * trace id still carries on through {@link outgoingTraceparent}.
 */
export async function inSpan<T>(
  name: string,
  incoming: string | undefined,
  work: (traceparent: string) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), incoming ? { traceparent: incoming } : {});
  return context.with(parent, () =>
    trace.getTracer('lienthong').startActiveSpan(name, async (span) => {
      try {
        return await work(outgoingTraceparent(incoming));
      } finally {
        span.end();
      }
    }),
  );
}

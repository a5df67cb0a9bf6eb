import { outgoingTraceparent, requestTraceId, traceIdOf } from '../../../services/platform/trace-context';

const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('requestTraceId', () => {
  it("continues the caller's trace, as the outgoing traceparent does", () => {
    expect(requestTraceId(INCOMING)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(requestTraceId(` ${INCOMING.toUpperCase()} `)).toBe(traceIdOf(outgoingTraceparent(INCOMING)));
  });

  it.each([undefined, '', 'garbage', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`])(
    'starts a new trace for %p: 32 hex digits, never zero, never the same twice',
    (incoming) => {
      const ids = Array.from({ length: 600 }, () => requestTraceId(incoming));
      for (const id of ids) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
      expect(new Set(ids).size).toBe(ids.length);
    },
  );
});

import { fixRequestQueueSchedule, requestQueueClass } from '../../../services/platform/kafkajs-request-queue';

/** kafkajs's RequestQueue, as a connection makes it, with its re-check spied on. */
function queue() {
  const RequestQueue = requestQueueClass() as unknown as new (options: object) => {
    pending: unknown[];
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  };
  const silent = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const q = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    clientId: 'unit',
    broker: '127.0.0.1:9092',
    logger: silent,
  });
  const checks = jest.fn();
  q.checkPendingRequests = checks;
  return { q, checks };
}

describe("kafkajs's request queue, fixed", () => {
  beforeAll(() => fixRequestQueueSchedule());
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-03T22:00:00+07:00') }));
  afterEach(() => jest.useRealTimers());

  it('arms no timer when nothing waits, where kafkajs 2.2.4 re-checked every millisecond', () => {
    const { q, checks } = queue();
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    jest.advanceTimersByTime(1_000);
    expect(checks).not.toHaveBeenCalled();
  });

  it("re-checks a waiting request after kafkajs's 10 ms when unthrottled", () => {
    const { q, checks } = queue();
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(9);
    expect(checks).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(checks).toHaveBeenCalledTimes(1);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('re-checks a waiting request when the throttle the broker asked for ends, once however often asked', () => {
    const { q, checks } = queue();
    q.pending.push({});
    q.throttledUntil = Date.now() + 250;
    q.scheduleCheckPendingRequests();
    q.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(249);
    expect(checks).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('is what every client of the bus gets once the platform module is loaded', () => {
    jest.isolateModules(() => {
      // A registry of modules of its own: kafkajs's class as it ships, until kafka.ts is loaded.
      const shipped = requestQueueClass().prototype.scheduleCheckPendingRequests;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../../services/platform/kafka');
      expect(requestQueueClass().prototype.scheduleCheckPendingRequests).not.toBe(shipped);
    });
  });
});

// @ts-check
// Fault and load runs of minutes each, kept out of `npm test` (which must stay well under 20
// minutes here) and run by `npm run test:long`, on the same single-node stack. Each is the test
// of a guarantee: keep it green before a change lands.

/** Paths from the repository's root. */
module.exports = [
  // The sharing service SIGKILLed mid-stream and restarted, 20,000 events (`test:soak`: 100,000).
  'test/integration/sharing/crash.test.ts',
  // The view rebuild SIGKILLed at each of its steps, events published meanwhile.
  'test/integration/sharing/rebuild-crash.test.ts',
  // Three times the load with a CPU hog, counting the sharing group's generations.
  'test/integration/sharing/no-eviction.test.ts',
  // Fifty and more Kafka faults each (answers swallowed after the write, resets, stalls), injected
  // by the test proxy under the connectors, the dead-letter producer and the audit relay.
  'test/integration/connectors/acknowledged.test.ts',
  'test/integration/sharing/dead-letter-faults.test.ts',
  'test/integration/lookup/audit-relay-faults.test.ts',
  // Two instances of a connector on one spool: the import's instance SIGKILLed, or stalled past
  // its lease, mid-import; the other finishes it.
  'test/integration/connectors/instances-takeover.test.ts',
  // Two members of one group through the changes topic against a direct replay: about 55 s on a
  // loaded machine, past what `npm test` may grow by.
  'test/integration/sharing/changes.test.ts',
];

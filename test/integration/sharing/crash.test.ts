import { type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { generateEventStream } from '../../support/event-stream';
import { freePort, until } from '../../support/fixtures';
import { sharingHarness } from '../../support/sharing';

/** 20,000 in `npm test`; `npm run test:soak` sets 100,000, the figure. */
const EVENTS = Number(process.env.LIENTHONG_CRASH_EVENTS ?? 20_000);
const KILLS = 3;
/** Generous: FerretDB applies a few hundred events a second on this machine, twice over here. */
const TIMEOUT_MS = 120_000 + EVENTS * 30;

const harness = sharingHarness({ partitions: 6, batchSize: 250 });

beforeAll(async () => {
  await harness.setUp();
  await harness.publish(generateEventStream(EVENTS, 11));
});

afterAll(() => harness.tearDown());

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

it(
  `gives the views of a clean replay after ${KILLS} SIGKILLs at random points of ${EVENTS} events`,
  async () => {
    const timeout = TIMEOUT_MS / 2;
    // Kill points: random, apart, between 10% and 90% of the committed events.
    const points = Array.from({ length: KILLS }, (_, i) =>
      Math.floor(EVENTS * (0.1 + (0.8 * (i + randomInt(1000) / 1000)) / KILLS)),
    );
    let port = await freePort();
    let child = harness.spawnProcess(undefined, port);
    for (const point of points) {
      await until(
        `${point} committed events`,
        // The domain events alone: the changes a routing service adds are counted at the end.
        async () => (await harness.progress(harness.groupId, false)).committed >= point,
        timeout,
      );
      child.kill('SIGKILL');
      await exited(child);
      port = await freePort();
      child = harness.spawnProcess(undefined, port);
    }
    await until(
      'every event committed',
      async () => {
        // Every event routed and every change it gave applied (main.ts routes through the changes).
        const { committed, total } = await harness.progress();
        return total >= EVENTS && committed === total;
      },
      timeout,
    );
    // A graceful stop is only a test of a process that got going: wait until it is ready.
    await until(
      'the last process to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      timeout,
    );
    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);

    const clean = await harness.cleanReplay('clean', timeout);
    expect(await harness.viewDifferences(clean.dbName)).toEqual([]);
    await harness.client().db(clean.dbName).dropDatabase();
  },
  TIMEOUT_MS,
);

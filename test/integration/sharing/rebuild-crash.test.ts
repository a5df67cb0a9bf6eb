import { type ChildProcess } from 'node:child_process';
import { VIEW_NAMES, type ViewDoc } from '../../../services/sharing/projection';
import { REBUILD_STEPS, type RebuildStep } from '../../../services/sharing/rebuild';
import { readCatalog, readGeneration } from '../../../services/sharing/view-catalog';
import { taxCodeCheckDigit } from '../../../connectors/runtime/identifiers';
import { generateEventStream, type StreamEvent } from '../../support/event-stream';
import { until } from '../../support/fixtures';
import { sharingHarness } from '../../support/sharing';
import { envelope, STORY, T0 } from '../../support/story';

/**
 * The rebuild runs as a process of its own, beside the live service, and is killed with SIGKILL
 * at each of its named steps, while events are published before, during and after it. After each
 * kill the live views must equal a clean replay of the topics, by hash, and hold the events
 * published meanwhile.
 */
const harness = sharingHarness({ partitions: 3 });
/** Short, so that a fence left by a killed rebuild expires within the test. */
const FENCE_MS = 2_000;
const TIMEOUT_MS = 600_000;
let seed = 100;
const published: StreamEvent[] = [];

let lastCode = 10_900_000;
/**
 * An event that stays in the views whatever comes after it: a tax code of its own registered for
 * the story's enterprise, so a section `tax.<code>` that names its event id.
 */
function marker(): StreamEvent {
  let code: string | undefined;
  while (code === undefined) {
    const first9 = String((lastCode += 1)).padStart(9, '0');
    const check = taxCodeCheckDigit(first9);
    if (check !== undefined) code = `${first9}${check}`;
  }
  return {
    topic: 'tax',
    key: code,
    event: {
      ...envelope('tax', `MST-${code}`, 1, T0, { enterpriseCodes: [STORY.enterprise] }),
      eventType: 'TaxpayerRegistered',
      payload: {
        'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
          taxCode: code,
          kind: 'ENTERPRISE',
          name: 'Chi nhánh Liên Thông Xanh',
          citizenId: null,
          enterpriseCode: STORY.enterprise,
          managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
          registeredAt: T0,
        },
      },
    },
  };
}

/** Publishes `count` events of the mixed stream and two markers; resolves with the markers. */
const publish = async (count: number): Promise<StreamEvent[]> => {
  const markers = [marker(), marker()];
  const batch = [...generateEventStream(count, (seed += 1)), ...markers];
  await harness.publish(batch);
  published.push(...batch);
  return markers;
};

beforeAll(async () => {
  await harness.setUp();
  await harness.start();
  await publish(400);
});

afterAll(() => harness.tearDown());

/** Resolves once the child has printed `line`; rejects if it exits first. */
function printed(child: ChildProcess, line: string, output: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (output.text.includes(line)) resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code, signal) => {
      check();
      reject(new Error(`the rebuild exited (${code ?? signal}) before printing "${line}":\n${output.text}`));
    });
    check();
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

function spawnRebuild(env: Record<string, string> = {}): { child: ChildProcess; output: { text: string } } {
  const child = harness.spawnRebuild([], { SHARING_REBUILD_FENCE_MS: String(FENCE_MS), ...env });
  const output = { text: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.text += chunk.toString();
  });
  return { child, output };
}

/** Every event id the live views' sections name. */
async function provenanceIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || value instanceof Date) return;
    const source = (value as { source?: { eventId?: unknown } }).source;
    if (typeof source?.eventId === 'string') ids.add(source.eventId);
    for (const v of Object.values(value)) walk(v);
  };
  const catalog = await readCatalog(harness.db());
  for (const view of VIEW_NAMES) {
    for await (const doc of harness.db().collection<ViewDoc>(catalog[view]).find({})) walk(doc);
  }
  return ids;
}

/** The live views against a clean replay of every topic, by hash, once the live group is done. */
async function liveAgainstReplay(during: readonly StreamEvent[]) {
  await until(
    'the live group to commit every event',
    async () => {
      const { committed, total } = await harness.progress();
      return committed === total && total === published.length;
    },
    180_000,
  );
  const report = await harness.dryRunReplay('it-rebuild-crash');
  const differing = VIEW_NAMES.map((v) => report.comparison[v]).reduce(
    (sum, c) => sum + c.onlyLeft.length + c.onlyRight.length + c.different.length,
    0,
  );
  const documents = VIEW_NAMES.reduce((sum, v) => sum + report.comparison[v].left, 0);
  const ids = await provenanceIds();
  const landed = during.filter((e) => ids.has(e.event.eventId)).length;
  return { differing, documents, replayed: report.events, landed, expected: during.length };
}

const results: string[] = [];

afterAll(() => {
  process.stdout.write(
    [
      '',
      "The rebuild's crash-step results (SIGKILL at each step, then the live views against a clean replay):",
      '| step killed at | catalog after the kill | live vs clean replay | events published during the rebuild in the live views |',
      '| --- | --- | --- | --- |',
      ...results,
      '',
    ].join('\n'),
  );
});

describe('a rebuild killed with SIGKILL', () => {
  it.each(Object.values(REBUILD_STEPS))(
    'at "%s" leaves live views equal to a clean replay, with the events published meanwhile',
    async (step: RebuildStep) => {
      const during: StreamEvent[] = [];
      const serving = await readCatalog(harness.db());
      const { child, output } = spawnRebuild({ SHARING_REBUILD_HALT_AT: step });
      const halted = printed(child, `rebuild halted at: ${step}`, output);
      // While it replays: these reach the views through the live consumer, and the shadow through
      // the replay or the catch-up.
      during.push(...(await publish(40)));
      await halted;
      // While it stands at the step (for `fenced` and `caught-up`, while the live consumer waits).
      during.push(...(await publish(40)));
      child.kill('SIGKILL');
      await exited(child);
      expect(child.signalCode).toBe('SIGKILL');
      const generation = await readGeneration(harness.db());
      // After it: the live consumer goes on, once a fence left behind has expired.
      during.push(...(await publish(40)));

      const outcome = await liveAgainstReplay(during);
      expect(outcome).toMatchObject({ differing: 0, landed: outcome.expected });
      expect(outcome.documents).toBeGreaterThan(0);
      expect(outcome.expected).toBeGreaterThan(0);
      const after = await readGeneration(harness.db());
      // Killed before the swap: the old collections serve; from the swap on, the rebuilt ones.
      const swappedIn = step === REBUILD_STEPS.SWAPPED || step === REBUILD_STEPS.DROPPED;
      if (swappedIn) expect(after.collections.citizens).not.toBe(serving.citizens);
      else expect(after.collections).toEqual(serving);
      results.push(
        `| ${step} | generation ${generation._id} (${generation.reason}${generation.fence ? ', fenced' : ''}) → ` +
          `${after._id} (${after.reason}), serving ${after.collections.citizens} | ` +
          `${outcome.documents} documents, ${outcome.differing} differ, ${outcome.replayed} events | ` +
          `${outcome.landed}/${outcome.expected} |`,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'then a rebuild run to the end swaps, and drops the old generation and what the killed ones left',
    async () => {
      const before = await readCatalog(harness.db());
      const { child, output } = spawnRebuild();
      await exited(child);
      expect({ code: child.exitCode, output: output.text }).toMatchObject({ code: 0 });
      const generation = await readGeneration(harness.db());
      expect(generation).toMatchObject({ reason: 'swap', fence: null });
      for (const view of VIEW_NAMES) {
        expect(generation.collections[view]).not.toBe(before[view]);
        expect(generation.manifest?.[view].documents).toBeGreaterThan(0);
      }
      const names = (await harness.db().listCollections().toArray()).map((c) => c.name);
      const viewCollections = names.filter((n) => /^(citizens|enterprises|vehicles|dossiers)(__|$)/.test(n));
      expect(viewCollections.filter((n) => !n.endsWith('_archive')).sort()).toEqual(
        Object.values(generation.collections).sort(),
      );
      const outcome = await liveAgainstReplay([]);
      expect(outcome.differing).toBe(0);
      results.push(
        `| (none: run to the end) | generation ${generation._id} (swap), old and leftover collections dropped | ` +
          `${outcome.documents} documents, ${outcome.differing} differ, ${outcome.replayed} events | — |`,
      );
    },
    TIMEOUT_MS,
  );
});

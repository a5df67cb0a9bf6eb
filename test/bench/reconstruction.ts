/**
 * Reconstruction benchmark: how long `GET /v1/audit/records/{seq}/answer` takes to rebuild an
 * officer's answer byte for byte. It prints figures and asserts nothing. Run with
 * `npm run bench:reconstruction` (`-- --runs N`: reconstructions of each answer, 15 by default;
 * `-- --filler N`: other vehicles registered first, 1,000 by default, so that the partitions
 * replayed hold more than the story).
 *
 * The lookup story is published on topics and a database of the run's own (two partitions a
 * topic), after N registrations of other vehicles; a vehicle, a citizen and an enterprise are
 * looked up once, then each answer is reconstructed `--runs` times through the real route, one at
 * a time. A reconstruction reads each partition its sections' events sit in from its start to
 * the highest offset recorded there, in a short-lived consumer group, and replays it in memory:
 * its time grows with those partitions, and includes the group's join.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { lookupHarness } from '../support/lookup';
import { benchStack } from './bench-stack';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../support/lookup-story';
import { DAY, envelope, STORY, type StoryEvent, T0 } from '../support/story';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, filler: { type: 'string', default: '1000' } },
});
const RUNS = Number(values.runs);
const FILLER = Number(values.filler);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Registrations of other vehicles, to one owner no lookup reads. */
function fillerEvents(count: number): StoryEvent[] {
  return Array.from({ length: count }, (_, i): StoryEvent => {
    const plate = `29A-${String(10_000 + i).slice(-5, -2)}.${String(i % 100).padStart(2, '0')}`;
    const at = T0 - DAY + i;
    return {
      topic: 'vehicle',
      key: plate,
      event: {
        ...envelope('vehicle', `DKX-BENCH-${i}`, 1, at, { citizenIds: ['001099000001'], plates: [plate] }),
        eventType: 'VehicleRegistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleRegistered': {
            plate,
            frameNumber: `RLHBENCH${String(i).padStart(9, '0')}`,
            engineNumber: `ENG${i}`,
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 5',
            owner: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: '001099000001' } },
            registeredAt: at,
          },
        },
      },
    };
  });
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function main(): Promise<void> {
  await benchStack(log);
  const harness = lookupHarness();
  await harness.setUp();
  try {
    // Unique plates only: the filler's keys must not collide with the story's.
    const filler = [...new Map(fillerEvents(FILLER).map((e) => [e.key, e])).values()];
    const events = [...filler, ...lookupStoryEvents()];
    await harness.sharing.publish(events);
    await harness.sharing.waitForEvents(events.length);
    const police = harness.officer('HN-PC08', 'CB-PC08-07');
    const registrar = harness.officer('HN-SKHDT', 'CB-SKHDT-03');
    const auditor = harness.token('auditor', 'TT-0001', 'HN-TTRA');
    const answers = [
      ['vehicle', `/v1/vehicles/${encodeURIComponent(STORY.plate)}`, police, OPEN_DOSSIERS.transfer.id],
      ['citizen', `/v1/citizens/${STORY.buyer}`, police, OPEN_DOSSIERS.transfer.id],
      ['enterprise', `/v1/enterprises/${STORY.enterprise}`, registrar, OPEN_DOSSIERS.amendment.id],
    ] as const;
    log(
      `reconstruction benchmark, ${cpus().length} cores, ${filler.length} other vehicles and ${events.length - filler.length} story events on 2 partitions a topic; ${RUNS} runs each`,
    );
    const all: number[] = [];
    for (const [name, url, token, dossier] of answers) {
      const answered = await harness.get(url, { token, dossier });
      const seq = answered.headers['x-audit-record'];
      const times: number[] = [];
      let matched = 0;
      let events = 0;
      for (let run = 0; run < RUNS; run += 1) {
        const started = performance.now();
        const rebuilt = await harness.get(`/v1/audit/records/${seq}/answer`, { token: auditor });
        times.push(performance.now() - started);
        const json = rebuilt.json();
        if (json.digest?.matches === true && json.body === answered.body) matched += 1;
        events = (json.events as unknown[] | undefined)?.length ?? 0;
      }
      all.push(...times);
      log(
        `  ${name.padEnd(10)} median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), ${events} recorded events, ${matched}/${RUNS} byte for byte`,
      );
    }
    log(`median of a reconstruction: ${median(all).toFixed(0)} ms over ${all.length}`);
  } finally {
    await harness.tearDown();
  }
}

main()
  .catch((err: unknown) => {
    log(String(err instanceof Error ? (err.stack ?? err.message) : err));
    process.exitCode = 1;
  })
  .finally(() => process.exit());

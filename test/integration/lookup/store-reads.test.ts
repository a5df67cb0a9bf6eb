import { type CommandStartedEvent, MongoClient } from 'mongodb';
import { AUDIT_RECORDS, AUDIT_SEALS } from '../../../services/lookup/audit-trail';
import { VIEW_GENERATIONS } from '../../../services/sharing/view-catalog';
import { endpoint } from '../../support/fixtures';
import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

/**
 * The store reads of one lookup, as the driver sends them (command monitoring): at most two per
 * allowed answer, each projected to the sections the policy can return and the links the checks
 * need, never the whole document.
 */
const commands: CommandStartedEvent[] = [];
const harness = lookupHarness({
  mongo: () => {
    const client = new MongoClient(endpoint('MONGODB_URI'), {
      monitorCommands: true,
      serverSelectionTimeoutMS: 2_000,
    });
    client.on('commandStarted', (event) => commands.push(event));
    return client;
  },
});
const events = lookupStoryEvents();
const { transfer, amendment, buildingPermit } = OPEN_DOSSIERS;
const plate = encodeURIComponent(STORY.plate);
/** Not view reads: the catalog (read once a second at most) and the audit trail. */
const NOT_VIEWS = new Set([VIEW_GENERATIONS, AUDIT_RECORDS, AUDIT_SEALS]);

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
}, 120_000);

afterAll(async () => {
  await harness.tearDown();
});

/** The view reads of one request: each `find`'s collection, filter and projection. */
async function readsOf(url: string, agency: string, dossier: string) {
  // One request at a time: every command seen between its start and its answer is its own.
  commands.length = 0;
  const answer = await harness.get(url, { token: harness.officer(agency), dossier });
  const reads = commands
    .filter((c) => c.commandName === 'find')
    .map((c) => c.command as { find: string; filter: unknown; projection?: Record<string, unknown> })
    .filter((c) => !NOT_VIEWS.has(c.find));
  return { status: answer.statusCode, reads };
}

const CASES: [string, string, string, string, number][] = [
  ['the applicant citizen', `/v1/citizens/${STORY.buyer}`, transfer.agency, transfer.id, 200],
  ['a vehicle the applicant owns', `/v1/vehicles/${plate}`, transfer.agency, transfer.id, 200],
  ['the applicant enterprise', `/v1/enterprises/${STORY.enterprise}`, amendment.agency, amendment.id, 200],
  [
    "the applicant enterprise's representative",
    `/v1/citizens/${STORY.newRepresentative}`,
    amendment.agency,
    amendment.id,
    200,
  ],
  ['the dossier handled', `/v1/dossiers/${amendment.id}`, amendment.agency, amendment.id, 200],
  [
    "another of the applicant's dossiers",
    `/v1/dossiers/${transfer.id}`,
    buildingPermit.agency,
    buildingPermit.id,
    200,
  ],
  [
    'an enterprise the applicant does not represent (refused)',
    `/v1/enterprises/${STORY.enterprise}`,
    transfer.agency,
    transfer.id,
    403,
  ],
];

it.each(CASES)(
  'reads the store at most twice, projected, for %s',
  async (_name, url, agency, dossier, status) => {
    const { status: answered, reads } = await readsOf(url, agency, dossier);
    expect(answered).toBe(status);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBeLessThanOrEqual(2);
    for (const read of reads) {
      // By `_id` alone, the one filter FerretDB pushes down, and never the whole document.
      expect(Object.keys(read.filter as object)).toEqual(['_id']);
      expect(read.projection).toBeDefined();
      expect(Object.keys(read.projection ?? {}).length).toBeGreaterThan(0);
    }
  },
);

it('reads the dossier handled once when it is the subject, and only what binds it otherwise', async () => {
  const itself = await readsOf(`/v1/dossiers/${amendment.id}`, amendment.agency, amendment.id);
  expect(itself.reads).toHaveLength(1);
  const other = await readsOf(`/v1/citizens/${STORY.buyer}`, transfer.agency, transfer.id);
  expect(other.reads[0]?.projection).toEqual({
    'dossier.applicant': 1,
    'dossier.handlingAgency': 1,
    'dossier.open': 1,
    'dossier.procedureCode': 1,
  });
});

it("reads of the subject only the sections the procedure's policy returns, and the links", async () => {
  // 1.010700 at HN-PC08 returns identity, vehicles and tax of a citizen; the applicant needs no link.
  const { reads } = await readsOf(`/v1/citizens/${STORY.buyer}`, transfer.agency, transfer.id);
  expect(reads[1]?.projection).toEqual({ identity: 1, tax: 1, vehicles: 1 });
  // An enterprise's representative is read with the registration the policy returns anyway.
  const refused = await readsOf(`/v1/enterprises/${STORY.enterprise}`, transfer.agency, transfer.id);
  expect(refused.reads[1]?.projection).toEqual({ registration: 1, vehicles: 1 });
});

import { type LienthongEvent } from '../../../schemas/generated/events';
import { VIEW_SECTIONS } from '../../../services/lookup/view-sections';
import { materialize } from '../../../services/sharing/materializer';
import { VIEW_NAMES, type ViewName } from '../../../services/sharing/projection';
import { ALL_EVENT_TYPES } from '../../../services/sharing/views/shared-sections';
import { deliver, enterprise, eventOf } from '../sharing/events';
import { createMemoryViewStore, type Snapshot } from '../sharing/memory-view-store';
import { AT, RECORDS, STORY, storyEvents } from '../sharing/story';

const s = STORY;
const events = storyEvents();
const LATER = AT.amended + 86_400_000;
const CITIZEN_TAX_CODE = '8012345678';
const ENTERPRISE_DOSSIER = '000.20.31.H26-240401-0099';

/**
 * The unit story, then one event of each kind it lacks, so that every field a projection can
 * write is written somewhere: the amendment, the status changes, a citizen's own tax code, the
 * car's deregistration and a dossier the enterprise files.
 */
const allKinds: LienthongEvent[] = [
  ...events.story,
  events.amended,
  eventOf(
    'EnterpriseStatusChanged',
    {
      record: RECORDS.enterprise,
      version: 3,
      occurredAt: LATER,
      subjects: { citizenIds: [s.newRepresentative], enterpriseCodes: [s.enterprise] },
    },
    { enterpriseCode: s.enterprise, status: 'SUSPENDED', effectiveAt: LATER, reason: 'QĐ 123/2024' },
  ),
  eventOf(
    'TaxpayerStatusChanged',
    {
      record: RECORDS.taxpayer,
      version: 3,
      occurredAt: LATER,
      subjects: { enterpriseCodes: [s.enterprise] },
    },
    { taxCode: s.enterprise, status: 'SUSPENDED', effectiveAt: LATER, reason: null },
  ),
  eventOf(
    'TaxpayerRegistered',
    {
      record: `MST-${CITIZEN_TAX_CODE}`,
      version: 1,
      occurredAt: AT.registered,
      subjects: { citizenIds: [s.buyer] },
    },
    {
      taxCode: CITIZEN_TAX_CODE,
      kind: 'INDIVIDUAL',
      name: 'Trần Thị Bình',
      citizenId: s.buyer,
      enterpriseCode: null,
      managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
      registeredAt: AT.registered,
    },
  ),
  eventOf(
    'TaxDebtUpdated',
    {
      record: `MST-${CITIZEN_TAX_CODE}`,
      version: 2,
      occurredAt: AT.debtAsOf,
      subjects: { citizenIds: [s.buyer] },
    },
    { taxCode: CITIZEN_TAX_CODE, amount: '2500000', asOf: AT.debtAsOf },
  ),
  eventOf(
    'TaxpayerStatusChanged',
    { record: `MST-${CITIZEN_TAX_CODE}`, version: 3, occurredAt: LATER, subjects: { citizenIds: [s.buyer] } },
    { taxCode: CITIZEN_TAX_CODE, status: 'CLOSED', effectiveAt: LATER, reason: 'QĐ 77/2024' },
  ),
  eventOf(
    'VehicleDeregistered',
    {
      record: RECORDS.vehicle,
      version: 3,
      occurredAt: LATER,
      subjects: { citizenIds: [s.buyer], enterpriseCodes: [s.enterprise], plates: [s.plate] },
    },
    { plate: s.plate, reason: 'END_OF_LIFE', deregisteredAt: LATER },
  ),
  eventOf(
    'DossierReceived',
    {
      record: 'HS-2024-0099',
      version: 1,
      occurredAt: AT.received,
      subjects: { enterpriseCodes: [s.enterprise], dossierIds: [ENTERPRISE_DOSSIER] },
    },
    {
      ...events.received.payload['vn.hanoi.lienthong.dossier.DossierReceived'],
      dossierId: ENTERPRISE_DOSSIER,
      applicant: enterprise(s.enterprise),
    },
  ),
  eventOf(
    'DossierStatusChanged',
    {
      record: 'HS-2024-0099',
      version: 2,
      occurredAt: LATER,
      subjects: { enterpriseCodes: [s.enterprise], dossierIds: [ENTERPRISE_DOSSIER] },
    },
    {
      dossierId: ENTERPRISE_DOSSIER,
      status: 'SUPPLEMENT_REQUESTED',
      handlingAgency: 'HN-SKHDT',
      changedAt: LATER,
      note: 'Bổ sung điều lệ công ty',
    },
  ),
];

const isEntry = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** Every field the documents hold, as `view.section.field`, and whatever does not fit the layout. */
function layoutOf(views: Snapshot): { fields: Set<string>; unfit: string[] } {
  const fields = new Set<string>();
  const unfit: string[] = [];
  for (const view of VIEW_NAMES) {
    for (const doc of Object.values(views[view])) {
      for (const [key, value] of Object.entries(doc)) {
        if (key === '_id') continue;
        const shape = VIEW_SECTIONS[view][key];
        if (!shape || !isEntry(value)) {
          unfit.push(`${view}.${key} is not a section`);
          continue;
        }
        const entries = shape.kind === 'single' ? [value] : Object.values(value);
        for (const entry of entries) {
          if (!isEntry(entry)) {
            unfit.push(`${view}.${key} holds an entry that is not an object`);
            continue;
          }
          for (const field of Object.keys(entry)) {
            if (field !== 'source') fields.add(`${view}.${key}.${field}`);
          }
        }
      }
    }
  }
  return { fields, unfit };
}

function listed(view: ViewName): string[] {
  return Object.entries(VIEW_SECTIONS[view]).flatMap(([section, shape]) =>
    shape.fields.map((field) => `${view}.${section}.${field}`),
  );
}

describe('VIEW_SECTIONS', () => {
  let views: Snapshot;

  beforeAll(async () => {
    const store = createMemoryViewStore();
    const outcome = await materialize(deliver(allKinds), store);
    expect(outcome.applied).toBe(allKinds.length);
    views = store.snapshot();
  });

  it('covers every event kind of every contract', () => {
    expect(new Set(allKinds.map((e) => e.eventType))).toEqual(ALL_EVENT_TYPES);
  });

  it('lays out every top-level key the projections write as a section of its kind', () => {
    expect(layoutOf(views).unfit).toEqual([]);
  });

  it('lists every field the projections write, for its view and section', () => {
    const catalog = new Set(VIEW_NAMES.flatMap(listed));
    expect([...layoutOf(views).fields].filter((field) => !catalog.has(field)).sort()).toEqual([]);
  });

  it('lists no field that the projections never write, which a policy would grant in vain', () => {
    const { fields } = layoutOf(views);
    expect(VIEW_NAMES.flatMap(listed).filter((field) => !fields.has(field))).toEqual([]);
  });

  it('reads the documents of the story', () => {
    expect(Object.keys(views.citizens).sort()).toEqual([s.buyer, s.founder, s.newRepresentative].sort());
    expect(Object.keys(views.dossiers).sort()).toEqual([s.dossier, ENTERPRISE_DOSSIER].sort());
    expect(views.vehicles[s.plate]?.registration).toMatchObject({ owner: { citizenId: s.buyer } });
  });
});

import { type ViewDoc } from '../../../../services/sharing/projection';
import { enterprisesProjection } from '../../../../services/sharing/views/enterprises';
import {
  at,
  businessRepresentatives,
  CLOSED_DOSSIER_STATUSES,
  dossierEntry,
  taxEntry,
  vehicleEntryFor,
} from '../../../../services/sharing/views/shared-sections';
import { deliver, eventOf } from '../events';
import { readerOf } from '../memory-view-store';
import { AT, RECORDS, STORY as s, storyEvents } from '../story';
import { given } from './evolve';

const events = storyEvents();
const [registered, amended] = deliver([events.registered, events.amended]);
const afterRegistration = given(enterprisesProjection, s.enterprise, [registered]) as ViewDoc;
const afterAmendment = given(
  enterprisesProjection,
  s.enterprise,
  [registered, amended],
  readerOf({ enterprises: [afterRegistration] }),
) as ViewDoc;
const suspension = eventOf(
  'EnterpriseStatusChanged',
  {
    record: RECORDS.enterprise,
    version: 3,
    occurredAt: AT.amended + 1,
    subjects: { enterpriseCodes: [s.enterprise] },
  },
  { enterpriseCode: s.enterprise, status: 'SUSPENDED', effectiveAt: AT.amended + 1, reason: null },
);

describe('businessRepresentatives', () => {
  it('given no enterprise in the view, takes the representative the registration names', () => {
    expect(businessRepresentatives(events.registered, readerOf())).toEqual({
      current: s.founder,
      previous: undefined,
      all: [s.founder],
    });
  });

  it('given the view before an amendment that names someone else, answers both', () => {
    expect(businessRepresentatives(events.amended, readerOf({ enterprises: [afterRegistration] }))).toEqual({
      current: s.newRepresentative,
      previous: s.founder,
      all: [s.newRepresentative, s.founder],
    });
  });

  it('given the view already holding the amendment (a replay), answers the same from what the view recorded', () => {
    expect(businessRepresentatives(events.amended, readerOf({ enterprises: [afterAmendment] }))).toEqual({
      current: s.newRepresentative,
      previous: s.founder,
      all: [s.newRepresentative, s.founder],
    });
  });

  it('given a later event that did not change the representative, names no previous one', () => {
    const suspended = enterprisesProjection.evolve(
      afterAmendment,
      deliver([suspension])[0],
      s.enterprise,
      readerOf({ enterprises: [afterAmendment] }),
    ) as ViewDoc;
    expect(businessRepresentatives(suspension, readerOf({ enterprises: [suspended] }))).toEqual({
      current: s.newRepresentative,
      previous: undefined,
      all: [s.newRepresentative],
    });
  });

  it('given a status change and no enterprise in the view, names nobody', () => {
    expect(businessRepresentatives(suspension, readerOf())).toEqual({
      current: undefined,
      previous: undefined,
      all: [],
    });
  });
});

describe('vehicleEntryFor', () => {
  it('given a transfer of a vehicle the view does not know, carries no details', () => {
    const entry = vehicleEntryFor(events.transferred, { view: 'citizens', id: s.buyer }, readerOf());
    expect(entry).toEqual({
      plate: s.plate,
      ownership: 'CURRENT',
      status: 'REGISTERED',
      since: new Date(AT.transferred),
      until: null,
    });
  });

  it('tells an owner in the other view apart from the new owner with the same id', () => {
    // The ids of a citizen and an enterprise never clash in practice; the view is what decides.
    const entry = vehicleEntryFor(events.transferred, { view: 'enterprises', id: s.buyer }, readerOf());
    expect(entry).toMatchObject({ ownership: 'FORMER', until: new Date(AT.transferred) });
  });
});

describe('dossierEntry and taxEntry', () => {
  it('give a status change only what it says, closed or not', () => {
    expect(dossierEntry(events.completed)).toEqual({
      dossierId: s.dossier,
      status: 'COMPLETED',
      handlingAgency: 'HN-PC08',
      statusChangedAt: new Date(AT.completed),
      open: false,
    });
    expect([...CLOSED_DOSSIER_STATUSES].sort()).toEqual(['COMPLETED', 'REJECTED', 'RETURNED']);
  });

  it('keep a debt as the decimal string it came as, so large amounts stay exact', () => {
    const huge = eventOf(
      'TaxDebtUpdated',
      { record: RECORDS.taxpayer, version: 9, occurredAt: AT.debtAsOf, subjects: {} },
      { taxCode: s.enterprise, amount: '999999999999999999', asOf: AT.debtAsOf },
    );
    expect(taxEntry(huge)).toEqual({
      taxCode: s.enterprise,
      debt: '999999999999999999',
      debtAsOf: at(AT.debtAsOf),
    });
  });
});

import { type EnterpriseAmended } from '../../../../schemas/generated/events';
import { type ViewDoc } from '../../../../services/sharing/projection';
import { enterprisesProjection } from '../../../../services/sharing/views/enterprises';
import { deliver, enterprise, eventOf } from '../events';
import { readerOf } from '../memory-view-store';
import { ADDRESS, AT, KEYS, RECORDS, STORY as s, storyEvents } from '../story';
import { given } from './evolve';

const events = storyEvents();
const [registered, amended] = deliver([events.registered, events.amended]);
const registeredDoc = given(enterprisesProjection, s.enterprise, [registered]) as ViewDoc;

/** An amendment of the story's enterprise, changing only what `changes` says. */
function amendment(version: number, changes: Partial<EnterpriseAmended>) {
  return eventOf(
    'EnterpriseAmended',
    {
      record: RECORDS.enterprise,
      version,
      occurredAt: AT.amended + version,
      subjects: { enterpriseCodes: [s.enterprise] },
    },
    {
      enterpriseCode: s.enterprise,
      amendmentNumber: version - 1,
      amendedAt: AT.amended + version,
      name: null,
      legalForm: null,
      address: null,
      legalRepresentativeCitizenId: null,
      charterCapital: null,
      ...changes,
    },
  );
}

describe('enterprisesProjection', () => {
  it('names the enterprises the subjects list', () => {
    const [transferred] = deliver([events.transferred]);
    expect(enterprisesProjection.ids(transferred, readerOf())).toEqual([s.enterprise]);
  });

  it('given a registration, records the enterprise as operating, with no amendment yet', () => {
    expect(registeredDoc).toEqual({
      _id: s.enterprise,
      registration: {
        enterpriseCode: s.enterprise,
        name: s.enterpriseName,
        legalForm: 'MULTI_MEMBER_LLC',
        address: ADDRESS,
        legalRepresentativeCitizenId: s.founder,
        charterCapital: '5000000000',
        registeredAt: new Date(AT.registered),
        amendmentNumber: 0,
        status: 'OPERATING',
        source: registered.source,
      },
    });
  });

  it('given an amendment of the name and capital only, changes those and keeps the representative', () => {
    const [change] = deliver([amendment(2, { name: 'Công ty TNHH Xanh', charterCapital: '9000000000' })]);
    const doc = enterprisesProjection.evolve(
      registeredDoc,
      change,
      s.enterprise,
      readerOf({ enterprises: [registeredDoc] }),
    );
    expect(doc?.registration).toEqual({
      ...(registeredDoc.registration as object),
      name: 'Công ty TNHH Xanh',
      charterCapital: '9000000000',
      amendmentNumber: 1,
      amendedAt: new Date(AT.amended + 2),
      source: change.source,
    });
  });

  it('given an amendment naming a new representative, records who was replaced and by which event', () => {
    const doc = enterprisesProjection.evolve(
      registeredDoc,
      amended,
      s.enterprise,
      readerOf({ enterprises: [registeredDoc] }),
    );
    expect(doc?.registration).toMatchObject({
      legalRepresentativeCitizenId: s.newRepresentative,
      previousLegalRepresentativeCitizenId: s.founder,
      legalRepresentativeChangedBy: amended.event.eventId,
      name: s.enterpriseName,
    });
  });

  it('given an amendment naming the representative already there, records no change of representative', () => {
    const [same] = deliver([amendment(2, { legalRepresentativeCitizenId: s.founder, name: 'X' })]);
    const doc = enterprisesProjection.evolve(
      registeredDoc,
      same,
      s.enterprise,
      readerOf({ enterprises: [registeredDoc] }),
    );
    expect(doc?.registration).toMatchObject({ legalRepresentativeCitizenId: s.founder, name: 'X' });
    expect(doc?.registration).not.toHaveProperty('previousLegalRepresentativeCitizenId');
    expect(doc?.registration).not.toHaveProperty('legalRepresentativeChangedBy');
  });

  it('returns the current document itself when the amendment is applied again', () => {
    const read = readerOf({ enterprises: [registeredDoc] });
    const current = enterprisesProjection.evolve(registeredDoc, amended, s.enterprise, read) as ViewDoc;
    expect(
      enterprisesProjection.evolve(current, amended, s.enterprise, readerOf({ enterprises: [current] })),
    ).toBe(current);
  });

  it('given a status change, sets the status, its date and reason, and keeps the rest', () => {
    const [suspended] = deliver([
      eventOf(
        'EnterpriseStatusChanged',
        {
          record: RECORDS.enterprise,
          version: 2,
          occurredAt: AT.amended,
          subjects: { enterpriseCodes: [s.enterprise] },
        },
        { enterpriseCode: s.enterprise, status: 'SUSPENDED', effectiveAt: AT.amended, reason: 'QĐ 123/2024' },
      ),
    ]);
    const doc = enterprisesProjection.evolve(
      registeredDoc,
      suspended,
      s.enterprise,
      readerOf({ enterprises: [registeredDoc] }),
    );
    expect(doc?.registration).toEqual({
      ...(registeredDoc.registration as object),
      status: 'SUSPENDED',
      statusEffectiveAt: new Date(AT.amended),
      statusReason: 'QĐ 123/2024',
      source: suspended.source,
    });
  });

  it('files a dossier the enterprise applied for under the enterprise', () => {
    const [received] = deliver([
      eventOf(
        'DossierReceived',
        {
          record: 'HS-2024-0099',
          version: 1,
          occurredAt: AT.received,
          subjects: { enterpriseCodes: [s.enterprise], dossierIds: [s.dossier] },
        },
        {
          ...events.received.payload['vn.hanoi.lienthong.dossier.DossierReceived'],
          applicant: enterprise(s.enterprise),
        },
      ),
    ]);
    expect(given(enterprisesProjection, s.enterprise, [received])?.dossiers).toEqual({
      [KEYS.dossier]: expect.objectContaining({ dossierId: s.dossier, status: 'RECEIVED', open: true }),
    });
  });

  it('given the car registered to it, lists it as owned now', () => {
    const [car] = deliver([events.vehicleRegistered]);
    expect(given(enterprisesProjection, s.enterprise, [car])?.vehicles).toEqual({
      [KEYS.plate]: {
        plate: s.plate,
        kind: 'CAR',
        brand: 'VinFast',
        model: 'VF 8',
        ownership: 'CURRENT',
        status: 'REGISTERED',
        since: new Date(AT.vehicleRegistered),
        source: car.source,
      },
    });
  });
});

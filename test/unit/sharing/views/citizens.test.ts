import { sectionKey, type ViewDoc } from '../../../../services/sharing/projection';
import { citizensProjection, identityOf } from '../../../../services/sharing/views/citizens';
import { enterprisesProjection } from '../../../../services/sharing/views/enterprises';
import { vehiclesProjection } from '../../../../services/sharing/views/vehicles';
import { citizen, deliver, eventOf, sourced } from '../events';
import { readerOf } from '../memory-view-store';
import { AT, KEYS, RECORDS, STORY as s, storyEvents } from '../story';
import { given } from './evolve';

const events = storyEvents();
const [registered, amended] = deliver([events.registered, events.amended]);
const enterpriseAfterRegistration = given(enterprisesProjection, s.enterprise, [registered]) as ViewDoc;
const afterRegistration = readerOf({ enterprises: [enterpriseAfterRegistration] });

const statusChanged = sourced(
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
  { offset: 1 },
);

describe('citizensProjection', () => {
  it('handles every event that can concern a citizen', () => {
    expect([...citizensProjection.handles].sort()).toEqual(
      [
        'DossierReceived',
        'DossierStatusChanged',
        'EnterpriseAmended',
        'EnterpriseRegistered',
        'EnterpriseStatusChanged',
        'OwnershipTransferred',
        'TaxDebtUpdated',
        'TaxpayerRegistered',
        'TaxpayerStatusChanged',
        'VehicleDeregistered',
        'VehicleRegistered',
      ].sort(),
    );
  });

  describe('identityOf', () => {
    it.each([
      ['001089012345', { birthProvinceCode: '001', sex: 'male', birthYear: 1989 }],
      ['079304000123', { birthProvinceCode: '079', sex: 'female', birthYear: 2004 }],
      ['001195004321', { birthProvinceCode: '001', sex: 'female', birthYear: 1995 }],
    ])('reads %s as what its digits say', (citizenId, parts) => {
      expect(identityOf(citizenId)).toEqual({ citizenId, ...parts });
    });

    it('keeps only the number when it is not a valid CCCD', () => {
      expect(identityOf('000089012345')).toEqual({ citizenId: '000089012345' });
      expect(identityOf('12345')).toEqual({ citizenId: '12345' });
    });
  });

  describe('ids', () => {
    it('names the citizens the subjects list, for a dossier, tax or vehicle event', () => {
      const [transferred] = deliver([events.transferred]);
      expect(citizensProjection.ids(transferred, readerOf())).toEqual([s.buyer]);
    });

    it('given no enterprise yet, names the representative a registration names', () => {
      expect(citizensProjection.ids(registered, readerOf())).toEqual([s.founder]);
    });

    it('given a representative in the view, names the new one and the one replaced, for an amendment', () => {
      expect(citizensProjection.ids(amended, afterRegistration)).toEqual([s.newRepresentative, s.founder]);
    });

    it('names the representative in the view for a status change, which names nobody', () => {
      expect(citizensProjection.ids(statusChanged, afterRegistration)).toEqual([s.founder]);
      expect(citizensProjection.ids(statusChanged, readerOf())).toEqual([]);
    });
  });

  describe('evolve', () => {
    it('given no document, creates one with the identity and the section', () => {
      const [received] = deliver([events.received]);
      const doc = given(citizensProjection, s.buyer, [received]);
      expect(doc).toEqual({
        _id: s.buyer,
        identity: identityOf(s.buyer),
        dossiers: {
          [KEYS.dossier]: {
            dossierId: s.dossier,
            procedureCode: '1.004227',
            procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
            receivingAgency: 'HN-TTHCC',
            receivedAt: new Date(AT.received),
            dueAt: new Date(AT.due),
            status: 'RECEIVED',
            open: true,
            source: received.source,
          },
        },
      });
    });

    it('returns the current document itself for a duplicate and for an older version', () => {
      const [received, completed] = deliver([events.received, events.completed]);
      const current = given(citizensProjection, s.buyer, [received, completed]);
      expect(citizensProjection.evolve(current, completed, s.buyer, readerOf())).toBe(current);
      expect(citizensProjection.evolve(current, received, s.buyer, readerOf())).toBe(current);
    });

    it('keeps what the reception said when the status changes', () => {
      const delivered = deliver([events.received, events.completed]);
      const doc = given(citizensProjection, s.buyer, delivered);
      expect(doc?.dossiers).toEqual({
        [KEYS.dossier]: expect.objectContaining({
          procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
          dueAt: new Date(AT.due),
          status: 'COMPLETED',
          open: false,
          statusChangedAt: new Date(AT.completed),
          source: delivered[1].source,
        }),
      });
    });

    it("files an individual's tax code under the citizen", () => {
      const taxCode = '8012345678';
      const delivered = deliver([
        eventOf(
          'TaxpayerRegistered',
          {
            record: `MST-${taxCode}`,
            version: 1,
            occurredAt: AT.registered,
            subjects: { citizenIds: [s.founder] },
          },
          {
            taxCode,
            kind: 'INDIVIDUAL',
            name: 'Nguyễn Văn An',
            citizenId: s.founder,
            enterpriseCode: null,
            managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
            registeredAt: AT.registered,
          },
        ),
        eventOf(
          'TaxpayerStatusChanged',
          {
            record: `MST-${taxCode}`,
            version: 2,
            occurredAt: AT.amended,
            subjects: { citizenIds: [s.founder] },
          },
          { taxCode, status: 'SUSPENDED', effectiveAt: AT.amended, reason: null },
        ),
      ]);
      expect(given(citizensProjection, s.founder, delivered)?.tax).toEqual({
        [taxCode]: {
          taxCode,
          kind: 'INDIVIDUAL',
          name: 'Nguyễn Văn An',
          managingTaxOffice: 'Chi cục Thuế khu vực Long Biên',
          registeredAt: new Date(AT.registered),
          status: 'SUSPENDED',
          statusEffectiveAt: new Date(AT.amended),
          statusReason: null,
          source: delivered[1].source,
        },
      });
    });

    it('makes the representative of a registration the legal representative of an operating enterprise', () => {
      expect(given(citizensProjection, s.founder, [registered])?.enterprises).toEqual({
        [s.enterprise]: {
          enterpriseCode: s.enterprise,
          role: 'LEGAL_REPRESENTATIVE',
          name: s.enterpriseName,
          status: 'OPERATING',
          source: registered.source,
        },
      });
    });

    it("gives the representative the enterprise's new status, keeping its name", () => {
      const current = given(citizensProjection, s.founder, [registered]);
      const doc = citizensProjection.evolve(current, statusChanged, s.founder, afterRegistration);
      expect(doc?.enterprises).toEqual({
        [s.enterprise]: {
          enterpriseCode: s.enterprise,
          role: 'LEGAL_REPRESENTATIVE',
          name: s.enterpriseName,
          status: 'SUSPENDED',
          source: statusChanged.source,
        },
      });
    });

    it('given an amendment replacing the representative, makes the old one former and the new one current', () => {
      const founder = given(citizensProjection, s.founder, [registered]);
      expect(
        citizensProjection.evolve(founder, amended, s.founder, afterRegistration)?.enterprises,
      ).toMatchObject({ [s.enterprise]: { role: 'FORMER_LEGAL_REPRESENTATIVE', source: amended.source } });
      expect(
        citizensProjection.evolve(null, amended, s.newRepresentative, afterRegistration)?.enterprises,
      ).toMatchObject({
        [s.enterprise]: { role: 'LEGAL_REPRESENTATIVE', name: s.enterpriseName, source: amended.source },
      });
    });

    describe('given a car passed from one citizen to another', () => {
      const transfer = eventOf(
        'OwnershipTransferred',
        {
          record: RECORDS.vehicle,
          version: 2,
          occurredAt: AT.transferred,
          subjects: { citizenIds: [s.founder, s.buyer], plates: [s.plate] },
        },
        {
          plate: s.plate,
          previousOwner: citizen(s.founder),
          newOwner: citizen(s.buyer),
          transferredAt: AT.transferred,
        },
      );
      const registration = eventOf(
        'VehicleRegistered',
        {
          record: RECORDS.vehicle,
          version: 1,
          occurredAt: AT.vehicleRegistered,
          subjects: { citizenIds: [s.founder], plates: [s.plate] },
        },
        {
          ...events.vehicleRegistered.payload['vn.hanoi.lienthong.vehicle.VehicleRegistered'],
          owner: citizen(s.founder),
        },
      );
      const [registeredCar, transferred] = deliver([registration, transfer]);
      const vehicleBefore = readerOf({
        vehicles: [given(vehiclesProjection, s.plate, [registeredCar]) as ViewDoc],
      });

      it('names both owners', () => {
        expect(citizensProjection.ids(transferred, vehicleBefore)).toEqual([s.founder, s.buyer]);
      });

      it('keeps the seller as former owner until the transfer, with the details the registration gave', () => {
        const seller = given(citizensProjection, s.founder, [registeredCar, transferred], vehicleBefore);
        expect(seller?.vehicles).toEqual({
          [sectionKey(s.plate)]: {
            plate: s.plate,
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 8',
            ownership: 'FORMER',
            status: 'REGISTERED',
            since: new Date(AT.vehicleRegistered),
            until: new Date(AT.transferred),
            source: transferred.source,
          },
        });
      });

      it('makes the buyer the current owner since the transfer, with the details from the vehicles view', () => {
        const buyer = given(citizensProjection, s.buyer, [transferred], vehicleBefore);
        expect(buyer?.vehicles).toEqual({
          [sectionKey(s.plate)]: {
            plate: s.plate,
            kind: 'CAR',
            brand: 'VinFast',
            model: 'VF 8',
            ownership: 'CURRENT',
            status: 'REGISTERED',
            since: new Date(AT.transferred),
            until: null,
            source: transferred.source,
          },
        });
      });

      it('marks the car deregistered, still owned, when its registration is withdrawn', () => {
        const [withdrawn] = deliver([
          eventOf(
            'VehicleDeregistered',
            {
              record: RECORDS.vehicle,
              version: 3,
              occurredAt: AT.amended,
              subjects: { citizenIds: [s.buyer], plates: [s.plate] },
            },
            { plate: s.plate, reason: 'END_OF_LIFE', deregisteredAt: AT.amended },
          ),
        ]);
        const buyer = given(citizensProjection, s.buyer, [transferred, withdrawn], vehicleBefore);
        expect(buyer?.vehicles).toMatchObject({
          [sectionKey(s.plate)]: {
            ownership: 'CURRENT',
            status: 'DEREGISTERED',
            deregisteredAt: new Date(AT.amended),
            since: new Date(AT.transferred),
          },
        });
      });
    });
  });
});

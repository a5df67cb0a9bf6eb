import { vehiclesProjection } from '../../../../services/sharing/views/vehicles';
import { citizen, deliver, eventOf } from '../events';
import { readerOf } from '../memory-view-store';
import { AT, RECORDS, STORY as s, storyEvents } from '../story';
import { given } from './evolve';

const events = storyEvents();
const withdrawal = eventOf(
  'VehicleDeregistered',
  {
    record: RECORDS.vehicle,
    version: 3,
    occurredAt: AT.amended,
    subjects: { citizenIds: [s.buyer], plates: [s.plate] },
  },
  { plate: s.plate, reason: 'END_OF_LIFE', deregisteredAt: AT.amended },
);
const [registered, transferred, withdrawn] = deliver([
  events.vehicleRegistered,
  events.transferred,
  withdrawal,
]);

describe('vehiclesProjection', () => {
  it('handles the vehicle events only, for the plates the subjects list', () => {
    expect([...vehiclesProjection.handles].sort()).toEqual([
      'OwnershipTransferred',
      'VehicleDeregistered',
      'VehicleRegistered',
    ]);
    expect(vehiclesProjection.ids(transferred, readerOf())).toEqual([s.plate]);
  });

  it('given a registration, records the vehicle and its first history entry', () => {
    expect(given(vehiclesProjection, s.plate, [registered])).toEqual({
      _id: s.plate,
      registration: {
        plate: s.plate,
        frameNumber: 'RLLV8ACA5RV012345',
        engineNumber: 'VFEM24A012345',
        kind: 'CAR',
        brand: 'VinFast',
        model: 'VF 8',
        owner: { enterpriseCode: s.enterprise },
        registeredAt: new Date(AT.vehicleRegistered),
        status: 'REGISTERED',
        source: registered.source,
      },
      history: {
        'DKX-2024-555001@v000000000001': {
          event: 'VehicleRegistered',
          at: new Date(AT.vehicleRegistered),
          owner: { enterpriseCode: s.enterprise },
          source: registered.source,
        },
      },
    });
  });

  it('given a withdrawal after a transfer, keeps the details and the owner, and adds to the history', () => {
    const doc = given(vehiclesProjection, s.plate, [registered, transferred, withdrawn]);
    expect(doc?.registration).toMatchObject({
      frameNumber: 'RLLV8ACA5RV012345',
      owner: { citizenId: s.buyer },
      status: 'DEREGISTERED',
      deregisteredAt: new Date(AT.amended),
      deregistrationReason: 'END_OF_LIFE',
      source: withdrawn.source,
    });
    expect(Object.keys(doc?.history as object)).toEqual([
      'DKX-2024-555001@v000000000001',
      'DKX-2024-555001@v000000000002',
      'DKX-2024-555001@v000000000003',
    ]);
    expect((doc?.history as Record<string, unknown>)['DKX-2024-555001@v000000000003']).toEqual({
      event: 'VehicleDeregistered',
      at: new Date(AT.amended),
      reason: 'END_OF_LIFE',
      source: withdrawn.source,
    });
  });

  it('returns the current document itself for a duplicate and for a late registration', () => {
    const current = given(vehiclesProjection, s.plate, [registered, transferred]);
    expect(vehiclesProjection.evolve(current, transferred, s.plate, readerOf())).toBe(current);
    expect(vehiclesProjection.evolve(current, registered, s.plate, readerOf())).toBe(current);
  });

  it('given a transfer it has no registration for, records the owner and the history entry only', () => {
    expect(given(vehiclesProjection, s.plate, [transferred])).toEqual({
      _id: s.plate,
      registration: { plate: s.plate, owner: { citizenId: s.buyer }, source: transferred.source },
      history: {
        'DKX-2024-555001@v000000000002': {
          event: 'OwnershipTransferred',
          at: new Date(AT.transferred),
          owner: { citizenId: s.buyer },
          previousOwner: { enterpriseCode: s.enterprise },
          source: transferred.source,
        },
      },
    });
  });

  it('keeps the history of each record of a plate apart: a plate re-registered to another vehicle adds to it', () => {
    // The plate goes back to the pool after the withdrawal and is issued again with a new record,
    // whose versions count from 1 again.
    const [reissued] = deliver([
      eventOf(
        'VehicleRegistered',
        {
          record: 'DKX-2025-777002',
          version: 1,
          occurredAt: AT.amended + 1_000,
          subjects: { citizenIds: [s.founder], plates: [s.plate] },
        },
        {
          ...events.vehicleRegistered.payload['vn.hanoi.lienthong.vehicle.VehicleRegistered'],
          frameNumber: 'RLLV8ACA5SV099999',
          owner: citizen(s.founder),
          registeredAt: AT.amended + 1_000,
        },
      ),
    ]);
    const doc = given(vehiclesProjection, s.plate, [registered, transferred, withdrawn, reissued]);
    const history = doc?.history as Record<string, { event: string; source: { sourceRecordId: string } }>;
    expect(Object.values(history).map((e) => [e.source.sourceRecordId, e.event])).toEqual(
      expect.arrayContaining([
        [RECORDS.vehicle, 'VehicleRegistered'],
        [RECORDS.vehicle, 'OwnershipTransferred'],
        [RECORDS.vehicle, 'VehicleDeregistered'],
        ['DKX-2025-777002', 'VehicleRegistered'],
      ]),
    );
    expect(Object.keys(history)).toHaveLength(4);
    expect(doc?.registration).toMatchObject({ frameNumber: 'RLLV8ACA5SV099999', status: 'REGISTERED' });
  });

  it('leaves the document alone for an event it does not handle', () => {
    const current = given(vehiclesProjection, s.plate, [registered]);
    const [debt] = deliver([events.debt]);
    expect(vehiclesProjection.evolve(current, debt, s.plate, readerOf())).toBe(current);
  });
});

import { vehiclesProjection } from '../../../../services/sharing/views/vehicles';
import { deliver, eventOf } from '../events';
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
        v000000000001: {
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
    expect(Object.keys(doc?.history as object)).toEqual(['v000000000001', 'v000000000002', 'v000000000003']);
    expect((doc?.history as Record<string, unknown>).v000000000003).toEqual({
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
        v000000000002: {
          event: 'OwnershipTransferred',
          at: new Date(AT.transferred),
          owner: { citizenId: s.buyer },
          previousOwner: { enterpriseCode: s.enterprise },
          source: transferred.source,
        },
      },
    });
  });

  it('leaves the document alone for an event it does not handle', () => {
    const current = given(vehiclesProjection, s.plate, [registered]);
    const [debt] = deliver([events.debt]);
    expect(vehiclesProjection.evolve(current, debt, s.plate, readerOf())).toBe(current);
  });
});

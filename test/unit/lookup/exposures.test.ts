import { ExposureCollector, exposedCitizenIds } from '../../../services/lookup/exposures';

const BUYER = '001195004321';
const FOUNDER = '001089012345';

describe('ExposureCollector', () => {
  it('finds citizen ids by the key that holds them, with the role the key names', () => {
    const found = new ExposureCollector();
    found.walk(
      {
        registration: { owner: { citizenId: BUYER }, charterCapital: '500000000000' },
        history: [{ owner: { enterpriseCode: '0108912347' }, previousOwner: { citizenId: FOUNDER } }],
        event: {
          subjects: { citizenIds: [BUYER] },
          payload: {
            'vn.x.OwnershipTransferred': { newOwner: { 'vn.x.CitizenParty': { citizenId: BUYER } } },
          },
        },
      },
      'vehicles',
      'clear',
    );
    expect(found.exposures()).toEqual([
      {
        citizenId: FOUNDER,
        as: 'previous-owner',
        fields: ['vehicles.history[].previousOwner.citizenId'],
        mask: 'clear',
      },
      { citizenId: BUYER, as: 'named', fields: ['vehicles.event.subjects.citizenIds[]'], mask: 'clear' },
      {
        citizenId: BUYER,
        as: 'owner',
        fields: [
          'vehicles.event.payload.vn.x.OwnershipTransferred.newOwner.vn.x.CitizenParty.citizenId',
          'vehicles.registration.owner.citizenId',
        ],
        mask: 'clear',
      },
    ]);
  });

  it('keeps the clear mask when an id was shown both masked and in clear', () => {
    const found = new ExposureCollector();
    found.add(BUYER, 'owner', 'a', 'last4');
    found.add(BUYER, 'owner', 'b', 'clear');
    expect(found.exposures()).toEqual([{ citizenId: BUYER, as: 'owner', fields: ['a', 'b'], mask: 'clear' }]);
    expect(exposedCitizenIds(found.exposures(), FOUNDER)).toEqual([FOUNDER, BUYER].sort());
  });
});

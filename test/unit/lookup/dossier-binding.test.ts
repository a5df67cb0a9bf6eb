import {
  bindDossier,
  type BoundDossier,
  concernsSubject,
  DENIALS,
  type DocLoader,
} from '../../../services/lookup/dossier-binding';
import { type ViewDoc, type ViewName } from '../../../services/sharing/projection';

const APPLICANT = '001195004321';
const REPRESENTATIVE = '001089012345';
const STRANGER = '001190007777';
const ENTERPRISE = '0101234567';
const OTHER_ENTERPRISE = '0109876543';
const DOSSIER = '000.20.31.H26-240312-0012';
const OTHER_DOSSIER = '000.20.31.H26-240401-0099';
const PLATE = '29A-123.45';

function dossierDoc(fields: Record<string, unknown>, id = DOSSIER): ViewDoc {
  return {
    _id: id,
    dossier: {
      dossierId: id,
      procedureCode: '1.010700',
      applicant: { citizenId: APPLICANT },
      handlingAgency: 'HN-PC08',
      open: true,
      ...fields,
    },
  };
}

const enterpriseDoc = (code: string, fields: Record<string, unknown>): ViewDoc => ({
  _id: code,
  registration: { enterpriseCode: code, ...fields },
});

const vehicleDoc = (owner: object, history: Record<string, object> = {}): ViewDoc => ({
  _id: PLATE,
  registration: { plate: PLATE, owner },
  history,
});

/** A loader over fixed documents; any other document does not exist. */
function loaderOf(...docs: [ViewName, ViewDoc][]): DocLoader {
  const byKey = new Map(docs.map(([view, doc]) => [`${view}/${doc._id}`, doc]));
  return async (view, id) => byKey.get(`${view}/${id}`) ?? null;
}

const none = loaderOf();

const byCitizen: BoundDossier = {
  dossierId: DOSSIER,
  procedureCode: '1.010700',
  applicant: { citizenId: APPLICANT },
  handlingAgency: 'HN-PC08',
};
const byEnterprise: BoundDossier = { ...byCitizen, applicant: { enterpriseCode: ENTERPRISE } };

describe('bindDossier', () => {
  it("binds an open dossier that the officer's agency handles", () => {
    expect(bindDossier(dossierDoc({}), 'HN-PC08')).toEqual({ ok: true, dossier: byCitizen });
  });

  it('binds the dossier by its document id, with the applicant it names', () => {
    const binding = bindDossier(dossierDoc({ applicant: { enterpriseCode: ENTERPRISE } }), 'HN-PC08');
    expect(binding).toEqual({ ok: true, dossier: byEnterprise });
  });

  it.each<[string, ViewDoc | null]>([
    ['no document', null],
    ['a document without a dossier section', { _id: DOSSIER, timeline: {} }],
    ['a dossier known only by a status change, with no procedure', dossierDoc({ procedureCode: undefined })],
  ])('refuses %s: the dossier is not found', (_name, doc) => {
    expect(bindDossier(doc, 'HN-PC08')).toMatchObject({ ok: false, denial: DENIALS.DOSSIER_NOT_FOUND });
  });

  it('refuses a closed dossier', () => {
    expect(bindDossier(dossierDoc({ open: false, status: 'COMPLETED' }), 'HN-PC08')).toMatchObject({
      ok: false,
      denial: DENIALS.DOSSIER_CLOSED,
    });
  });

  it('refuses a dossier whose open flag is not true', () => {
    expect(bindDossier(dossierDoc({ open: 'true' }), 'HN-PC08')).toMatchObject({
      denial: DENIALS.DOSSIER_CLOSED,
    });
  });

  it.each([
    ['closed', { open: false, status: 'COMPLETED' }],
    ['open', {}],
  ])("refuses another agency's %s dossier alike, so the code never reveals its state", (_state, fields) => {
    expect(bindDossier(dossierDoc(fields), 'HN-SKHDT')).toMatchObject({
      ok: false,
      denial: DENIALS.DOSSIER_OTHER_AGENCY,
    });
  });

  it('refuses an officer of the receiving desk once another agency handles the dossier', () => {
    const passedOn = dossierDoc({ receivingAgency: 'HN-TTHCC', handlingAgency: 'HN-PC08' });
    expect(bindDossier(passedOn, 'HN-TTHCC')).toMatchObject({
      ok: false,
      denial: DENIALS.DOSSIER_OTHER_AGENCY,
    });
  });
});

describe('concernsSubject', () => {
  describe('a citizen', () => {
    it('concerns a dossier the citizen filed', async () => {
      expect(await concernsSubject(byCitizen, 'citizens', APPLICANT, null, none)).toBe(true);
    });

    it('concerns the dossier of an enterprise the citizen represents at law', async () => {
      const load = loaderOf([
        'enterprises',
        enterpriseDoc(ENTERPRISE, { legalRepresentativeCitizenId: REPRESENTATIVE }),
      ]);
      const subject: ViewDoc = { _id: REPRESENTATIVE };
      expect(await concernsSubject(byEnterprise, 'citizens', REPRESENTATIVE, subject, load)).toBe(true);
    });

    it('does not concern a dossier of someone else', async () => {
      const load = loaderOf([
        'enterprises',
        enterpriseDoc(ENTERPRISE, { legalRepresentativeCitizenId: REPRESENTATIVE }),
      ]);
      const subject: ViewDoc = { _id: STRANGER };
      expect(await concernsSubject(byCitizen, 'citizens', STRANGER, subject, load)).toBe(false);
      expect(await concernsSubject(byEnterprise, 'citizens', STRANGER, subject, load)).toBe(false);
      expect(await concernsSubject(byEnterprise, 'citizens', STRANGER, null, load)).toBe(false);
    });

    it('does not concern the dossier of an enterprise the bus does not hold', async () => {
      expect(
        await concernsSubject(byEnterprise, 'citizens', REPRESENTATIVE, { _id: REPRESENTATIVE }, none),
      ).toBe(false);
    });
  });

  describe('an enterprise', () => {
    it('concerns a dossier the enterprise filed, even when the bus does not hold it', async () => {
      expect(await concernsSubject(byEnterprise, 'enterprises', ENTERPRISE, null, none)).toBe(true);
    });

    it('concerns the dossier of the citizen who represents it', async () => {
      const subject = enterpriseDoc(ENTERPRISE, { legalRepresentativeCitizenId: APPLICANT });
      expect(await concernsSubject(byCitizen, 'enterprises', ENTERPRISE, subject, none)).toBe(true);
    });

    it('does not concern the dossier of a citizen who represented it before', async () => {
      const subject = enterpriseDoc(ENTERPRISE, {
        legalRepresentativeCitizenId: REPRESENTATIVE,
        previousLegalRepresentativeCitizenId: APPLICANT,
      });
      expect(await concernsSubject(byCitizen, 'enterprises', ENTERPRISE, subject, none)).toBe(false);
    });

    it("does not concern another enterprise's dossier, nor a dossier when the bus does not hold it", async () => {
      const subject = enterpriseDoc(OTHER_ENTERPRISE, { legalRepresentativeCitizenId: REPRESENTATIVE });
      expect(await concernsSubject(byEnterprise, 'enterprises', OTHER_ENTERPRISE, subject, none)).toBe(false);
      expect(await concernsSubject(byCitizen, 'enterprises', OTHER_ENTERPRISE, null, none)).toBe(false);
    });
  });

  describe('a vehicle', () => {
    it('concerns the dossier of its current owner', async () => {
      expect(
        await concernsSubject(byCitizen, 'vehicles', PLATE, vehicleDoc({ citizenId: APPLICANT }), none),
      ).toBe(true);
    });

    it('concerns the dossier of an owner its history names', async () => {
      const subject = vehicleDoc(
        { citizenId: STRANGER },
        {
          v000000000001: { event: 'VehicleRegistered', owner: { enterpriseCode: ENTERPRISE } },
          v000000000002: {
            event: 'OwnershipTransferred',
            owner: { citizenId: STRANGER },
            previousOwner: { enterpriseCode: ENTERPRISE },
          },
        },
      );
      expect(await concernsSubject(byEnterprise, 'vehicles', PLATE, subject, none)).toBe(true);
      const soldByApplicant = vehicleDoc(
        { citizenId: STRANGER },
        {
          v000000000002: {
            event: 'OwnershipTransferred',
            owner: { citizenId: STRANGER },
            previousOwner: { citizenId: APPLICANT },
          },
        },
      );
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, soldByApplicant, none)).toBe(true);
    });

    it('concerns the dossier of a citizen who represents the enterprise owning it', async () => {
      const subject = vehicleDoc({ enterpriseCode: ENTERPRISE });
      const load = loaderOf([
        'enterprises',
        enterpriseDoc(ENTERPRISE, { legalRepresentativeCitizenId: APPLICANT }),
      ]);
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, subject, load)).toBe(true);
    });

    it('does not concern the dossier of a citizen who represented the owning enterprise before', async () => {
      const subject = vehicleDoc({ enterpriseCode: ENTERPRISE });
      const load = loaderOf([
        'enterprises',
        enterpriseDoc(ENTERPRISE, {
          legalRepresentativeCitizenId: REPRESENTATIVE,
          previousLegalRepresentativeCitizenId: APPLICANT,
        }),
      ]);
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, subject, load)).toBe(false);
    });

    it('does not concern the dossier of someone who never owned it', async () => {
      const subject = vehicleDoc(
        { citizenId: STRANGER },
        { v000000000001: { event: 'VehicleRegistered', owner: { enterpriseCode: OTHER_ENTERPRISE } } },
      );
      const load = loaderOf([
        'enterprises',
        enterpriseDoc(OTHER_ENTERPRISE, { legalRepresentativeCitizenId: REPRESENTATIVE }),
      ]);
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, subject, load)).toBe(false);
      expect(await concernsSubject(byEnterprise, 'vehicles', PLATE, subject, load)).toBe(false);
    });

    it('does not concern any dossier when the bus does not hold it', async () => {
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, null, none)).toBe(false);
    });
  });

  describe('a dossier', () => {
    it('concerns itself, even when the bus does not hold it', async () => {
      expect(await concernsSubject(byCitizen, 'dossiers', DOSSIER, null, none)).toBe(true);
    });

    it('concerns another dossier of the same applicant', async () => {
      const other = dossierDoc({}, OTHER_DOSSIER);
      expect(await concernsSubject(byCitizen, 'dossiers', OTHER_DOSSIER, other, none)).toBe(true);
      const ofEnterprise = dossierDoc({ applicant: { enterpriseCode: ENTERPRISE } }, OTHER_DOSSIER);
      expect(await concernsSubject(byEnterprise, 'dossiers', OTHER_DOSSIER, ofEnterprise, none)).toBe(true);
    });

    it("does not concern another applicant's dossier, nor one the bus does not hold", async () => {
      const other = dossierDoc({ applicant: { citizenId: STRANGER } }, OTHER_DOSSIER);
      expect(await concernsSubject(byCitizen, 'dossiers', OTHER_DOSSIER, other, none)).toBe(false);
      const ofEnterprise = dossierDoc({ applicant: { enterpriseCode: ENTERPRISE } }, OTHER_DOSSIER);
      expect(await concernsSubject(byCitizen, 'dossiers', OTHER_DOSSIER, ofEnterprise, none)).toBe(false);
      expect(await concernsSubject(byCitizen, 'dossiers', OTHER_DOSSIER, null, none)).toBe(false);
    });
  });
});

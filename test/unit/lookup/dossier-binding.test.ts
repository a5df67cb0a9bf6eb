import {
  bindDossier,
  type BoundDossier,
  concernsSubject,
  DENIALS,
  type DocLoader,
  subjectLinks,
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

/** A citizen's document naming their role in each enterprise, as the citizens view keeps it. */
const citizenDoc = (id: string, roles: Record<string, string>): ViewDoc => ({
  _id: id,
  enterprises: Object.fromEntries(
    Object.entries(roles).map(([enterpriseCode, role]) => [enterpriseCode, { enterpriseCode, role }]),
  ),
});

const vehicleDoc = (owner: object, history: Record<string, object> = {}): ViewDoc => ({
  _id: PLATE,
  registration: { plate: PLATE, owner },
  history,
});

/** A loader over fixed documents; any other document does not exist. Records every read. */
function loaderOf(...docs: [ViewName, ViewDoc][]): DocLoader & { reads: string[] } {
  const byKey = new Map(docs.map(([view, doc]) => [`${view}/${doc._id}`, doc]));
  const reads: string[] = [];
  const load = async (view: ViewName, id: string, fields: readonly string[]) => {
    reads.push(`${view}/${id} ${fields.join(',')}`);
    return byKey.get(`${view}/${id}`) ?? null;
  };
  return Object.assign(load, { reads });
}

const none = loaderOf();

/** Whether the dossier concerns the subject `id` of `view`, whose document is `subject` (null: missing). */
function concerns(
  dossier: BoundDossier,
  view: ViewName,
  id: string,
  subject: ViewDoc | null,
  load: DocLoader,
): Promise<boolean> {
  return concernsSubject(dossier, view, id, subject, load);
}

/** An enterprise's document naming its legal representative now, as the enterprises view keeps it. */
const enterpriseDoc = (code: string, representative: string): ViewDoc => ({
  _id: code,
  registration: { enterpriseCode: code, legalRepresentativeCitizenId: representative },
});

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
      expect(await concerns(byCitizen, 'citizens', APPLICANT, null, none)).toBe(true);
    });

    it('concerns the dossier of an enterprise the citizen represents at law', async () => {
      const subject = citizenDoc(REPRESENTATIVE, { [ENTERPRISE]: 'LEGAL_REPRESENTATIVE' });
      expect(await concerns(byEnterprise, 'citizens', REPRESENTATIVE, subject, none)).toBe(true);
    });

    it('does not concern the dossier of an enterprise the citizen represented before', async () => {
      const subject = citizenDoc(REPRESENTATIVE, { [ENTERPRISE]: 'FORMER_LEGAL_REPRESENTATIVE' });
      expect(await concerns(byEnterprise, 'citizens', REPRESENTATIVE, subject, none)).toBe(false);
    });

    it('does not concern a dossier of someone else', async () => {
      const subject = citizenDoc(STRANGER, { [OTHER_ENTERPRISE]: 'LEGAL_REPRESENTATIVE' });
      expect(await concerns(byCitizen, 'citizens', STRANGER, subject, none)).toBe(false);
      expect(await concerns(byEnterprise, 'citizens', STRANGER, subject, none)).toBe(false);
      expect(await concerns(byEnterprise, 'citizens', STRANGER, null, none)).toBe(false);
    });
  });

  describe('an enterprise', () => {
    it('concerns a dossier the enterprise filed, even when the bus does not hold it', async () => {
      expect(await concerns(byEnterprise, 'enterprises', ENTERPRISE, null, none)).toBe(true);
    });

    it('concerns the dossier of the citizen who represents it', async () => {
      const subject = enterpriseDoc(ENTERPRISE, APPLICANT);
      expect(await concerns(byCitizen, 'enterprises', ENTERPRISE, subject, none)).toBe(true);
    });

    it('does not concern the dossier of a citizen who represented it before', async () => {
      const subject: ViewDoc = {
        _id: ENTERPRISE,
        registration: {
          legalRepresentativeCitizenId: STRANGER,
          previousLegalRepresentativeCitizenId: APPLICANT,
        },
      };
      expect(await concerns(byCitizen, 'enterprises', ENTERPRISE, subject, none)).toBe(false);
    });

    it("does not concern another enterprise's dossier, nor a dossier when the bus does not hold it", async () => {
      const other = enterpriseDoc(OTHER_ENTERPRISE, STRANGER);
      expect(await concerns(byEnterprise, 'enterprises', OTHER_ENTERPRISE, other, none)).toBe(false);
      expect(await concerns(byCitizen, 'enterprises', OTHER_ENTERPRISE, other, none)).toBe(false);
      expect(await concerns(byCitizen, 'enterprises', OTHER_ENTERPRISE, null, none)).toBe(false);
    });
  });

  describe('a vehicle', () => {
    it('concerns the dossier of its current owner', async () => {
      expect(await concerns(byCitizen, 'vehicles', PLATE, vehicleDoc({ citizenId: APPLICANT }), none)).toBe(
        true,
      );
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
      expect(await concerns(byEnterprise, 'vehicles', PLATE, subject, none)).toBe(true);
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
      expect(await concerns(byCitizen, 'vehicles', PLATE, soldByApplicant, none)).toBe(true);
    });

    it('concerns the dossier of a citizen who represents the enterprise owning it', async () => {
      const subject = vehicleDoc({ enterpriseCode: ENTERPRISE });
      const load = loaderOf(['citizens', citizenDoc(APPLICANT, { [ENTERPRISE]: 'LEGAL_REPRESENTATIVE' })]);
      expect(await concerns(byCitizen, 'vehicles', PLATE, subject, load)).toBe(true);
    });

    it('does not concern the dossier of a citizen who represented the owning enterprise before', async () => {
      const subject = vehicleDoc({ enterpriseCode: ENTERPRISE });
      const load = loaderOf([
        'citizens',
        citizenDoc(APPLICANT, { [ENTERPRISE]: 'FORMER_LEGAL_REPRESENTATIVE' }),
      ]);
      expect(await concerns(byCitizen, 'vehicles', PLATE, subject, load)).toBe(false);
    });

    it('does not concern the dossier of someone who never owned it', async () => {
      const subject = vehicleDoc(
        { citizenId: STRANGER },
        { v000000000001: { event: 'VehicleRegistered', owner: { enterpriseCode: OTHER_ENTERPRISE } } },
      );
      const load = loaderOf([
        'citizens',
        citizenDoc(REPRESENTATIVE, { [OTHER_ENTERPRISE]: 'LEGAL_REPRESENTATIVE' }),
      ]);
      expect(await concerns(byCitizen, 'vehicles', PLATE, subject, load)).toBe(false);
      expect(await concerns(byEnterprise, 'vehicles', PLATE, subject, load)).toBe(false);
    });

    it('does not concern any dossier when the bus does not hold it', async () => {
      expect(await concerns(byCitizen, 'vehicles', PLATE, null, none)).toBe(false);
    });
  });

  describe('a dossier', () => {
    it('concerns itself, even when the bus does not hold it', async () => {
      expect(await concerns(byCitizen, 'dossiers', DOSSIER, null, none)).toBe(true);
    });

    it('concerns another dossier of the same applicant', async () => {
      const other = dossierDoc({}, OTHER_DOSSIER);
      expect(await concerns(byCitizen, 'dossiers', OTHER_DOSSIER, other, none)).toBe(true);
      const ofEnterprise = dossierDoc({ applicant: { enterpriseCode: ENTERPRISE } }, OTHER_DOSSIER);
      expect(await concerns(byEnterprise, 'dossiers', OTHER_DOSSIER, ofEnterprise, none)).toBe(true);
    });

    it("does not concern another applicant's dossier, nor one the bus does not hold", async () => {
      const other = dossierDoc({ applicant: { citizenId: STRANGER } }, OTHER_DOSSIER);
      expect(await concerns(byCitizen, 'dossiers', OTHER_DOSSIER, other, none)).toBe(false);
      const ofEnterprise = dossierDoc({ applicant: { enterpriseCode: ENTERPRISE } }, OTHER_DOSSIER);
      expect(await concerns(byCitizen, 'dossiers', OTHER_DOSSIER, ofEnterprise, none)).toBe(false);
      expect(await concerns(byCitizen, 'dossiers', OTHER_DOSSIER, null, none)).toBe(false);
    });
  });

  describe('the same reads for an existing and a missing subject', () => {
    const cases: [string, BoundDossier, ViewName, string, ViewDoc][] = [
      [
        'a citizen',
        byEnterprise,
        'citizens',
        STRANGER,
        citizenDoc(STRANGER, { [OTHER_ENTERPRISE]: 'LEGAL_REPRESENTATIVE' }),
      ],
      [
        'an enterprise',
        byCitizen,
        'enterprises',
        OTHER_ENTERPRISE,
        enterpriseDoc(OTHER_ENTERPRISE, STRANGER),
      ],
      ['a citizen-owned vehicle', byCitizen, 'vehicles', PLATE, vehicleDoc({ citizenId: STRANGER })],
      [
        'a dossier',
        byCitizen,
        'dossiers',
        OTHER_DOSSIER,
        dossierDoc({ applicant: { citizenId: STRANGER } }, OTHER_DOSSIER),
      ],
    ];

    it.each(cases)(
      'reads nothing more than the subject, read with its links, to refuse %s',
      async (_name, dossier, view, id, doc) => {
        const load = loaderOf(['citizens', citizenDoc(APPLICANT, {})]);
        expect(await concernsSubject(dossier, view, id, doc, load)).toBe(false);
        expect(await concernsSubject(dossier, view, id, null, load)).toBe(false);
        expect(load.reads).toEqual([]);
        expect(subjectLinks(dossier, view, id).length).toBeGreaterThan(0);
      },
    );

    it("reads the applicant's enterprises, links only, for a vehicle an enterprise owned", async () => {
      const owned = vehicleDoc(
        { citizenId: STRANGER },
        { v000000000001: { event: 'VehicleRegistered', owner: { enterpriseCode: OTHER_ENTERPRISE } } },
      );
      const load = loaderOf(['citizens', citizenDoc(APPLICANT, {})]);
      expect(await concernsSubject(byCitizen, 'vehicles', PLATE, owned, load)).toBe(false);
      expect(load.reads).toEqual([`citizens/${APPLICANT} enterprises`]);
    });
  });

  describe('the links read with the subject', () => {
    it.each<[string, BoundDossier, ViewName, string, readonly string[]]>([
      ['the applicant citizen', byCitizen, 'citizens', APPLICANT, []],
      ["another citizen, by the enterprise's applicant", byEnterprise, 'citizens', STRANGER, ['enterprises']],
      ['the applicant enterprise', byEnterprise, 'enterprises', ENTERPRISE, []],
      [
        'an enterprise, by a citizen applicant',
        byCitizen,
        'enterprises',
        ENTERPRISE,
        ['registration.legalRepresentativeCitizenId'],
      ],
      ['a vehicle', byCitizen, 'vehicles', PLATE, ['registration.owner', 'history']],
      ['the dossier itself', byCitizen, 'dossiers', DOSSIER, []],
      ['another dossier', byCitizen, 'dossiers', OTHER_DOSSIER, ['dossier.applicant']],
    ])('for %s: %j', (_name, dossier, view, id, links) => {
      expect(subjectLinks(dossier, view, id)).toEqual(links);
    });
  });
});

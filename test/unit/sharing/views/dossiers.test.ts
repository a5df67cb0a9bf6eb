import { type DossierStatus } from '../../../../schemas/generated/events';
import { dossiersProjection } from '../../../../services/sharing/views/dossiers';
import { deliver, enterprise, eventOf } from '../events';
import { readerOf } from '../memory-view-store';
import { AT, RECORDS, STORY as s, storyEvents } from '../story';
import { given } from './evolve';

const events = storyEvents();
const [received, completed] = deliver([events.received, events.completed]);

/** A status change of the story's dossier. */
function statusChange(version: number, status: DossierStatus, changedAt: number, note: string | null = null) {
  return eventOf(
    'DossierStatusChanged',
    {
      record: RECORDS.dossier,
      version,
      occurredAt: changedAt,
      subjects: { citizenIds: [s.buyer], dossierIds: [s.dossier] },
    },
    { dossierId: s.dossier, status, handlingAgency: 'HN-PC08', changedAt, note },
  );
}

describe('dossiersProjection', () => {
  it('handles the dossier events only, for the dossiers the subjects list', () => {
    expect([...dossiersProjection.handles].sort()).toEqual(['DossierReceived', 'DossierStatusChanged']);
    expect(dossiersProjection.ids(received, readerOf())).toEqual([s.dossier]);
  });

  it('given a reception, records an open dossier handled where it was received, and the first timeline entry', () => {
    expect(given(dossiersProjection, s.dossier, [received])).toEqual({
      _id: s.dossier,
      dossier: {
        dossierId: s.dossier,
        procedureCode: '1.004227',
        procedureName: 'Cấp đổi giấy chứng nhận đăng ký xe',
        applicant: { citizenId: s.buyer },
        receivingAgency: 'HN-TTHCC',
        handlingAgency: 'HN-TTHCC',
        channel: 'ONLINE_LEVEL_4',
        receivedAt: new Date(AT.received),
        dueAt: new Date(AT.due),
        status: 'RECEIVED',
        open: true,
        source: received.source,
      },
      timeline: {
        'HS-2024-0012@v000000000001': {
          status: 'RECEIVED',
          at: new Date(AT.received),
          agency: 'HN-TTHCC',
          note: null,
          source: received.source,
        },
      },
    });
  });

  it('names an enterprise applicant by its code', () => {
    const [byEnterprise] = deliver([
      eventOf(
        'DossierReceived',
        {
          record: RECORDS.dossier,
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
    expect(given(dossiersProjection, s.dossier, [byEnterprise])?.dossier).toMatchObject({
      applicant: { enterpriseCode: s.enterprise },
    });
  });

  it.each([
    ['before the due date', AT.due - 1, true],
    ['at the due date', AT.due, true],
    ['after the due date', AT.due + 1, false],
  ])('given it completed %s, says whether it closed on time', (_when, changedAt, onTime) => {
    const [done] = deliver([statusChange(2, 'COMPLETED', changedAt)]);
    expect(given(dossiersProjection, s.dossier, [received, done])?.dossier).toMatchObject({
      status: 'COMPLETED',
      open: false,
      closedAt: new Date(changedAt),
      onTime,
    });
  });

  describe('the time limit paused while a supplement is awaited', () => {
    const HOUR = 3_600_000;
    // Asked for a supplement on the first day, given it 30 hours later: the due date moves by 30 hours.
    const asked = AT.received + 5 * HOUR;
    const resumed = asked + 30 * HOUR;
    const paused = (closedAt: number) =>
      deliver([
        statusChange(2, 'SUPPLEMENT_REQUESTED', asked, 'Bổ sung bản sao CCCD'),
        statusChange(3, 'PROCESSING', resumed),
        statusChange(4, 'COMPLETED', closedAt),
      ]);

    it.each([
      ['within the limit plus the pause', AT.due + 30 * HOUR, true],
      ['after the limit plus the pause', AT.due + 30 * HOUR + 1, false],
    ])('counts a dossier completed %s as on time or not', (_when, closedAt, onTime) => {
      const doc = given(dossiersProjection, s.dossier, [received, ...paused(closedAt)]);
      expect(doc?.dossier).toMatchObject({ status: 'COMPLETED', onTime });
    });

    it('stops the clock until the closing for a dossier closed while it awaited a supplement', () => {
      // Returned to the applicant, who never supplied it: past the due date, but the clock was stopped.
      const [ask, giveBack] = deliver([
        statusChange(2, 'SUPPLEMENT_REQUESTED', asked),
        statusChange(3, 'RETURNED', AT.due + 10 * HOUR),
      ]);
      expect(given(dossiersProjection, s.dossier, [received, ask, giveBack])?.dossier).toMatchObject({
        status: 'RETURNED',
        onTime: true,
      });
    });

    it('gives the same verdict when the pause arrives after the closing', () => {
      const [ask, resume, done] = paused(AT.due + 30 * HOUR);
      const doc = given(dossiersProjection, s.dossier, [received, done, ask, resume]);
      expect(doc?.dossier).toMatchObject({ status: 'COMPLETED', onTime: true, source: done.source });
    });
  });

  it.each(['REJECTED', 'RETURNED'] as const)('closes the dossier when it is %s', (status) => {
    const [closed] = deliver([statusChange(2, status, AT.completed, 'Thiếu giấy tờ')]);
    expect(given(dossiersProjection, s.dossier, [received, closed])?.dossier).toMatchObject({
      status,
      open: false,
      closedAt: new Date(AT.completed),
      onTime: true,
    });
  });

  it('leaves an open dossier without a closing date or verdict, and keeps the note in the timeline', () => {
    const [asked] = deliver([statusChange(2, 'SUPPLEMENT_REQUESTED', AT.completed, 'Bổ sung bản sao CCCD')]);
    const doc = given(dossiersProjection, s.dossier, [received, asked]);
    expect(doc?.dossier).toMatchObject({
      status: 'SUPPLEMENT_REQUESTED',
      open: true,
      closedAt: null,
      onTime: null,
      procedureCode: '1.004227',
      handlingAgency: 'HN-PC08',
    });
    expect((doc?.timeline as Record<string, unknown>)['HS-2024-0012@v000000000002']).toEqual({
      status: 'SUPPLEMENT_REQUESTED',
      at: new Date(AT.completed),
      agency: 'HN-PC08',
      note: 'Bổ sung bản sao CCCD',
      source: asked.source,
    });
  });

  it('cannot judge a closing it has no due date for', () => {
    expect(given(dossiersProjection, s.dossier, [completed])?.dossier).toMatchObject({
      status: 'COMPLETED',
      open: false,
      onTime: null,
    });
  });

  it('returns the current document itself for a duplicate and for a late reception', () => {
    const current = given(dossiersProjection, s.dossier, [received, completed]);
    expect(dossiersProjection.evolve(current, completed, s.dossier, readerOf())).toBe(current);
    expect(dossiersProjection.evolve(current, received, s.dossier, readerOf())).toBe(current);
  });

  it('given a late reception after the completion, fills what only it carries and the timeline, but keeps the status', () => {
    // As when the reception was quarantined at the connector, fixed and resent after the completion.
    const doc = given(dossiersProjection, s.dossier, [completed, received]);
    expect(doc?.dossier).toMatchObject({
      status: 'COMPLETED',
      open: false,
      handlingAgency: 'HN-PC08',
      procedureCode: '1.004227',
      applicant: { citizenId: s.buyer },
      receivingAgency: 'HN-TTHCC',
      dueAt: new Date(AT.due),
      // Judgeable once the due date is known.
      onTime: true,
      source: completed.source,
    });
    expect(Object.keys(doc?.timeline as object).sort()).toEqual([
      'HS-2024-0012@v000000000001',
      'HS-2024-0012@v000000000002',
    ]);
  });
});

import { useEffect, useState } from 'preact/hooks';
import { type Answer, lookup } from '../api';
import { type Messages, type MessageKey, useMessages } from '../i18n';
import { Refusal } from '../refusal';
import { type Session } from '../session';

type View = 'citizens' | 'enterprises' | 'vehicles' | 'dossiers';

interface PolicySection {
  view: View;
  section: string;
  sourceAgency: string | null;
  fields: { field: string; mask: 'clear' | 'last4' | 'year' }[];
}

interface Desk {
  dossier: {
    dossierId: string;
    procedureCode: string;
    procedureName: string | null;
    applicant: { citizenId?: string; enterpriseCode?: string };
    status: string | null;
    receivedAt: string | null;
    dueAt: string | null;
    handlingAgency: string;
  };
  policy: { procedureCode: string; agency: string; purpose: string; sections: PolicySection[] };
}

interface LookupAnswer {
  subject: { view: View; id: string };
  data: Record<string, Record<string, unknown> | Record<string, unknown>[]>;
}

interface Subject {
  view: View;
  id: string;
}

const DATE_FIELD = /(At|AsOf|since|until)$/;
const VIEWS: View[] = ['citizens', 'enterprises', 'vehicles', 'dossiers'];

/**
 * The officer's desk: the dossier at hand, what its policy opens and why, and a lookup of each
 * subject it concerns, every section with its source, its as-of date and its masked fields.
 */
export function DeskPage({ session }: { session: Session }) {
  const m = useMessages();
  const [dossierId, setDossierId] = useState(session.dossierId ?? '');
  const [desk, setDesk] = useState<Answer<Desk> | null>(null);
  const [answers, setAnswers] = useState<Answer<LookupAnswer>[]>([]);
  const [other, setOther] = useState<Subject>({ view: 'citizens', id: '' });

  const open = async (id: string) => {
    setAnswers([]);
    setDesk(await lookup<Desk>(session, `/v1/desk/${encodeURIComponent(id)}`));
  };
  const look = async (subject: Subject) => {
    if (!desk?.ok) return;
    const answer = await lookup<LookupAnswer>(
      session,
      `/v1/${subject.view}/${encodeURIComponent(subject.id)}`,
      desk.body.dossier.dossierId,
    );
    setAnswers((list) => [answer, ...list.filter((a) => !sameSubject(a, subject))]);
  };

  // For the console benchmark (test/bench/console.ts): when the desk first showed, from navigation.
  useEffect(() => {
    performance.mark('lienthong:desk-rendered');
  }, []);

  const subjects = desk?.ok ? subjectsOf(desk.body, answers) : [];
  return (
    <section>
      <h1>{m.t('desk.title')}</h1>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void open(dossierId.trim());
        }}
      >
        <label>
          {m.t('desk.dossierId')}
          <input
            name="dossierId"
            size={32}
            required
            value={dossierId}
            onInput={(e) => setDossierId(e.currentTarget.value)}
          />
        </label>
        <button type="submit">{m.t('desk.open')}</button>
      </form>
      {desk && !desk.ok && <Refusal answer={desk} />}
      {desk?.ok && (
        <>
          <DossierCard desk={desk.body} m={m} />
          <h2>{m.t('desk.subjects')}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{m.t('desk.subjectKind')}</th>
                <th scope="col">{m.t('desk.subjectId')}</th>
                <th scope="col">
                  <span class="meta">{m.t('desk.lookUp')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {subjects.map((s) => (
                <tr key={`${s.view}/${s.id}`}>
                  <td>{m.t(`view.${s.view}` as MessageKey)}</td>
                  <td>{s.id}</td>
                  <td>
                    <button type="button" data-subject={s.id} onClick={() => look(s)}>
                      {m.t('desk.lookUp')} <span class="sr-only">{s.id}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void look({ view: other.view, id: other.id.trim() });
            }}
          >
            <label>
              {m.t('desk.subjectKind')}
              <select
                value={other.view}
                onChange={(e) => setOther({ ...other, view: e.currentTarget.value as View })}
              >
                {VIEWS.map((v) => (
                  <option key={v} value={v}>
                    {m.t(`view.${v}` as MessageKey)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {m.t('desk.subjectId')}
              <input
                name="otherSubject"
                required
                value={other.id}
                onInput={(e) => setOther({ ...other, id: e.currentTarget.value })}
              />
            </label>
            <button type="submit">{m.t('desk.lookUpOther')}</button>
          </form>
          {answers.map((a, i) => (
            <LookupResult key={i} answer={a} desk={desk.body} m={m} />
          ))}
        </>
      )}
    </section>
  );
}

function DossierCard({ desk, m }: { desk: Desk; m: Messages }) {
  const d = desk.dossier;
  const rows: [MessageKey, string][] = [
    ['desk.dossierId', d.dossierId],
    ['desk.procedure', `${d.procedureCode}${d.procedureName ? ` — ${d.procedureName}` : ''}`],
    ['desk.applicant', d.applicant.citizenId ?? d.applicant.enterpriseCode ?? m.t('common.none')],
    ['desk.status', d.status ?? m.t('common.none')],
    ['desk.received', m.date(d.receivedAt)],
    ['desk.due', m.date(d.dueAt)],
    ['desk.agency', d.handlingAgency],
  ];
  return (
    <div class="card" data-testid="dossier">
      <dl class="pairs">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{m.t(k)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <p>
        <strong>{m.t('desk.purpose')}:</strong> {desk.policy.purpose}
      </p>
    </div>
  );
}

function LookupResult({ answer, desk, m }: { answer: Answer<LookupAnswer>; desk: Desk; m: Messages }) {
  if (!answer.ok) return <Refusal answer={answer} />;
  const { subject, data } = answer.body;
  return (
    <article class="card" data-testid="lookup">
      <h2>{m.t('desk.answerFor', { kind: m.t(`view.${subject.view}` as MessageKey), id: subject.id })}</h2>
      {answer.auditRecord && <p class="meta">{m.t('desk.auditRecord', { seq: answer.auditRecord })}</p>}
      {Object.entries(data).map(([section, value]) => {
        const policy = desk.policy.sections.find((p) => p.view === subject.view && p.section === section);
        const entries = Array.isArray(value) ? value : [value];
        const masked = (policy?.fields ?? []).filter((f) => f.mask !== 'clear');
        const asOf = latestDate(entries);
        const columns = [...new Set(entries.flatMap((e) => Object.keys(e)))];
        return (
          <section key={section} data-section={section}>
            <h3>{m.t('desk.section', { section })}</h3>
            <p class="meta">
              {policy?.sourceAgency
                ? m.t('desk.source', { agency: policy.sourceAgency })
                : m.t('desk.sourceDerived')}
              {' · '}
              {asOf ? m.t('desk.asOf', { date: m.date(asOf) }) : m.t('desk.asOfUnknown')}
              {' · '}
              {masked.length > 0
                ? m.t('desk.masked', {
                    fields: masked
                      .map((f) => `${f.field} (${m.t(`mask.${f.mask}` as MessageKey)})`)
                      .join(', '),
                  })
                : m.t('desk.noMasked')}
            </p>
            {entries.length === 0 || columns.length === 0 ? (
              <p>{m.t('desk.empty')}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    {columns.map((c) => (
                      <th key={c} scope="col">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e, i) => (
                    <tr key={i}>
                      {columns.map((c) => {
                        const isMasked = masked.some((f) => f.field === c);
                        return (
                          <td key={c} data-field={c}>
                            <span class={isMasked ? 'masked' : undefined}>{show(c, e[c], m)}</span>
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        );
      })}
    </article>
  );
}

/** A value as the desk shows it: dates in Hà Nội, money in đồng, parties by their id. */
function show(field: string, value: unknown, m: Messages): string {
  if (value === null || value === undefined) return m.t('common.none');
  if (typeof value === 'boolean') return m.t(value ? 'common.yes' : 'common.no');
  if (field === 'debt' && /^-?\d+(\.\d+)?$/.test(String(value))) return m.money(String(value));
  if (typeof value === 'string' && DATE_FIELD.test(field) && !Number.isNaN(Date.parse(value)))
    return m.date(value);
  if (typeof value === 'object')
    return Object.values(value as Record<string, unknown>)
      .map(String)
      .join(', ');
  return String(value);
}

/** The latest date a section's own fields state: what its data is as of. */
function latestDate(entries: Record<string, unknown>[]): string | null {
  let latest: string | null = null;
  for (const e of entries) {
    for (const [k, v] of Object.entries(e)) {
      if (DATE_FIELD.test(k) && typeof v === 'string' && !Number.isNaN(Date.parse(v))) {
        if (!latest || Date.parse(v) > Date.parse(latest)) latest = v;
      }
    }
  }
  return latest;
}

/**
 * The applicant, then what the answers so far name in clear: the vehicles and enterprises linked to
 * them. A masked identifier is not a subject one can look up, so it is left out.
 */
function subjectsOf(desk: Desk, answers: Answer<LookupAnswer>[]): Subject[] {
  const a = desk.dossier.applicant;
  const out: Subject[] = [
    a.citizenId ? { view: 'citizens', id: a.citizenId } : { view: 'enterprises', id: a.enterpriseCode ?? '' },
  ];
  const add = (s: Subject) => {
    if (!s.id.includes('*') && !out.some((o) => o.view === s.view && o.id === s.id)) out.push(s);
  };
  for (const answer of answers) {
    if (!answer.ok) continue;
    const data = answer.body.data;
    for (const v of asList(data.vehicles))
      if (typeof v.plate === 'string') add({ view: 'vehicles', id: v.plate });
    for (const e of asList(data.enterprises))
      if (typeof e.enterpriseCode === 'string') add({ view: 'enterprises', id: e.enterpriseCode });
    const rep = (data.registration as Record<string, unknown> | undefined)?.legalRepresentativeCitizenId;
    if (typeof rep === 'string') add({ view: 'citizens', id: rep });
  }
  return out;
}

const asList = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? (value as Record<string, unknown>[]) : [];

const sameSubject = (a: Answer<LookupAnswer>, s: Subject): boolean =>
  a.ok && a.body.subject.view === s.view && a.body.subject.id === s.id;

import { useEffect, useRef, useState } from 'preact/hooks';
import { type Answer, lookup } from '../api';
import { type Flow } from '../charts';
import { type MessageKey, useMessages } from '../i18n';
import { Refusal } from '../refusal';
import { type Session } from '../session';

interface AuditRecord {
  seq: number;
  at: string;
  action: string;
  actor: { id: string; agency: string | null; role: string } | null;
  subject: { view: string; id: string } | null;
  dossierId: string | null;
  procedureCode: string | null;
  fields: string[];
  sources: string[];
  masks?: { field: string; mask: string }[];
  policyVersion?: string;
  result: string;
  reason: string | null;
  status: number;
  traceId: string | null;
  hash: string;
}

interface Verification {
  ok: boolean;
  fromSeq: number;
  checked: number;
  lastSeq: number;
  sealedSeq: number;
  copy?: { compared: boolean; lastSeq: number; sealedSeq: number };
  breaches: { seq: number; kind: string; detail?: string }[];
}

interface Lineage {
  view: string;
  id: string;
  sections: {
    path: string;
    source: {
      agency: string;
      topic: string;
      partition: number;
      offset: string;
      eventId: string;
      occurredAt: string;
      traceId: string | null;
    };
    event?: { found: boolean; code?: string };
  }[];
}

const VIEWS = ['citizens', 'enterprises', 'vehicles', 'dossiers'];
const DAY_MS = 86_400_000;

/**
 * The auditor's page: the trail searched by subject, officer, agency, dossier and time; one
 * record's detail with what the officer saw; the chain's state; the flows between agencies as a
 * picture and a time series; and the lineage of a view document down to its Kafka events.
 */
export function AuditorPage({ session, now }: { session: Session; now: () => number }) {
  const m = useMessages();
  const [query, setQuery] = useState({
    subjectView: '',
    subjectId: '',
    officerId: '',
    agency: '',
    dossierId: '',
    from: '',
    to: '',
  });
  const [page, setPage] = useState<Answer<{ records: AuditRecord[] }> | null>(null);
  const [detail, setDetail] = useState<AuditRecord | null>(null);

  const search = async () => {
    const params = new URLSearchParams();
    if (query.subjectId) {
      params.set('subjectView', query.subjectView);
      params.set('subjectId', query.subjectId.trim());
    }
    if (query.officerId) params.set('officerId', query.officerId.trim());
    if (query.agency) params.set('agency', query.agency.trim());
    if (query.dossierId) params.set('dossierId', query.dossierId.trim());
    // The day's bounds in Hà Nội, which is UTC+7 all year.
    if (query.from) params.set('from', new Date(`${query.from}T00:00:00+07:00`).toISOString());
    if (query.to) params.set('to', new Date(`${query.to}T23:59:59.999+07:00`).toISOString());
    setDetail(null);
    setPage(await lookup(session, `/v1/audit/records?${params}`));
  };
  const field = (name: keyof typeof query, label: MessageKey, type = 'text') => (
    <label>
      {m.t(label)}
      <input
        name={name}
        type={type}
        value={query[name]}
        onInput={(e) => setQuery({ ...query, [name]: e.currentTarget.value })}
      />
    </label>
  );

  return (
    <section>
      <h1>{m.t('audit.title')}</h1>
      <ChainState session={session} now={now} />
      <h2>{m.t('audit.search')}</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label>
          {m.t('audit.subjectView')}
          <select
            value={query.subjectView}
            onChange={(e) => setQuery({ ...query, subjectView: e.currentTarget.value })}
          >
            {VIEWS.map((v) => (
              <option key={v} value={v}>
                {m.t(`view.${v}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        {field('subjectId', 'audit.subjectId')}
        {field('officerId', 'audit.officer')}
        {field('agency', 'audit.agency')}
        {field('dossierId', 'audit.dossier')}
        {field('from', 'audit.from', 'date')}
        {field('to', 'audit.to', 'date')}
        <button type="submit">{m.t('audit.search')}</button>
      </form>
      {page && !page.ok && <Refusal answer={page} />}
      {page?.ok &&
        (page.body.records.length === 0 ? (
          <p>{m.t('audit.none')}</p>
        ) : (
          <table data-testid="trail">
            <caption class="sr-only">{m.t('audit.results')}</caption>
            <thead>
              <tr>
                <th scope="col">{m.t('audit.seq')}</th>
                <th scope="col">{m.t('audit.at')}</th>
                <th scope="col">{m.t('audit.who')}</th>
                <th scope="col">{m.t('audit.what')}</th>
                <th scope="col">{m.t('audit.dossier')}</th>
                <th scope="col">{m.t('audit.result')}</th>
                <th scope="col">{m.t('audit.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {page.body.records.map((r) => (
                <tr key={r.seq}>
                  <td>{r.seq}</td>
                  <td>{m.dateTime(r.at)}</td>
                  <td>
                    {r.actor ? `${r.actor.id} (${r.actor.agency ?? r.actor.role})` : m.t('common.none')}
                  </td>
                  <td>
                    {r.subject ? `${m.t(`view.${r.subject.view}` as MessageKey)} ${r.subject.id}` : r.action}
                  </td>
                  <td>{r.dossierId ?? m.t('common.none')}</td>
                  <td class={r.result === 'allowed' ? 'ok' : 'bad'}>
                    {r.result === 'allowed'
                      ? m.t('audit.allowed')
                      : `${m.t('audit.denied')} (${r.reason ?? r.status})`}
                  </td>
                  <td>
                    <button type="button" class="link" onClick={() => setDetail(r)}>
                      {m.t('audit.detail')} <span class="sr-only">{r.seq}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      {detail && <RecordDetail session={session} record={detail} />}
      <Flows session={session} now={now} />
      <LineagePanel session={session} />
    </section>
  );
}

function RecordDetail({ session, record }: { session: Session; record: AuditRecord }) {
  const m = useMessages();
  const [saw, setSaw] = useState<Answer<unknown> | null>(null);
  useEffect(() => {
    setSaw(null);
    void lookup(session, `/v1/audit/records/${record.seq}/answer`).then(setSaw);
  }, [record.seq]);
  return (
    <article class="card" data-testid="record">
      <h2>{m.t('audit.recordTitle', { seq: record.seq })}</h2>
      <dl class="pairs">
        <div>
          <dt>{m.t('audit.fields')}</dt>
          <dd>
            {(record.masks ?? record.fields.map((field) => ({ field, mask: 'clear' })))
              .map(
                (f) => `${f.field}${f.mask === 'clear' ? '' : ` (${m.t(`mask.${f.mask}` as MessageKey)})`}`,
              )
              .join(', ') || m.t('common.none')}
          </dd>
        </div>
        <div>
          <dt>{m.t('audit.sources')}</dt>
          <dd>{record.sources.join(', ') || m.t('common.none')}</dd>
        </div>
        <div>
          <dt>{m.t('citizen.procedure')}</dt>
          <dd>{record.procedureCode ?? m.t('common.none')}</dd>
        </div>
        <div>
          <dt>{m.t('audit.trace')}</dt>
          <dd>{record.traceId ?? m.t('common.none')}</dd>
        </div>
        <div>
          <dt>{m.t('audit.hash')}</dt>
          <dd style="word-break: break-all">{record.hash}</dd>
        </div>
      </dl>
      <h3>{m.t('audit.saw')}</h3>
      {!saw ? (
        <p>{m.t('common.loading')}</p>
      ) : saw.status === 404 ? (
        <p class="notice" data-testid="saw-unavailable">
          {m.t('audit.sawUnavailable')}
        </p>
      ) : saw.ok ? (
        <pre style="white-space: pre-wrap">{JSON.stringify(saw.body, null, 2)}</pre>
      ) : (
        <Refusal answer={saw} />
      )}
    </article>
  );
}

function ChainState({ session, now }: { session: Session; now: () => number }) {
  const m = useMessages();
  const [state, setState] = useState<{ answer: Answer<Verification>; at: number } | null>(null);
  const verify = async (full: boolean) =>
    setState({ answer: await lookup<Verification>(session, `/v1/audit/verify?full=${full}`), at: now() });
  useEffect(() => {
    void verify(false);
  }, []);
  const v = state?.answer.ok ? state.answer.body : null;
  return (
    <div class="card" data-testid="chain">
      <h2>{m.t('audit.chain')}</h2>
      {!state && <p>{m.t('common.loading')}</p>}
      {state && !state.answer.ok && <Refusal answer={state.answer} />}
      {v && (
        <>
          <p class={v.ok ? 'ok' : 'bad'}>{v.ok ? m.t('audit.chainOk') : m.t('audit.chainBroken')}</p>
          <p>
            {m.t('audit.checked', {
              checked: v.checked,
              from: v.fromSeq,
              last: v.lastSeq,
              sealed: v.sealedSeq,
            })}
          </p>
          {v.copy?.compared && <p>{m.t('audit.copy', { last: v.copy.lastSeq, sealed: v.copy.sealedSeq })}</p>}
          <ul>
            {v.breaches.map((b) => (
              <li key={`${b.seq}-${b.kind}`} class="bad">
                {m.t('audit.breach', { seq: b.seq, kind: b.kind })}
              </li>
            ))}
          </ul>
          <p class="meta">{m.t('audit.lastVerified', { at: m.dateTime(state?.at) })}</p>
        </>
      )}
      <button type="button" onClick={() => verify(true)}>
        {m.t('audit.verifyFull')}
      </button>
    </div>
  );
}

function Flows({ session, now }: { session: Session; now: () => number }) {
  const m = useMessages();
  const [days, setDays] = useState(30);
  const [answer, setAnswer] = useState<Answer<{ flows: Flow[] }> | null>(null);
  const map = useRef<HTMLDivElement>(null);
  const series = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const to = now();
    const params = new URLSearchParams({
      from: new Date(to - days * DAY_MS).toISOString(),
      to: new Date(to).toISOString(),
      period: 'day',
    });
    void lookup<{ flows: Flow[] }>(session, `/v1/audit/flows?${params}`).then(setAnswer);
  }, [days]);
  useEffect(() => {
    if (!answer?.ok || !map.current || !series.current) return undefined;
    let dispose: (() => void)[] = [];
    let cancelled = false;
    const flows = answer.body.flows;
    void import('../charts').then((charts) => {
      if (cancelled || !map.current || !series.current) return;
      dispose = [
        charts.drawFlowMap(map.current, flows, {
          source: m.t('audit.source'),
          reader: m.t('audit.reader'),
          description: m.t('audit.flowMap'),
        }),
        charts.drawFlowSeries(series.current, flows, m.t('audit.flowSeries')),
      ];
    });
    return () => {
      cancelled = true;
      for (const d of dispose) d();
    };
  }, [answer, m]);
  const totals = new Map<string, number>();
  for (const f of answer?.ok ? answer.body.flows : []) {
    const key = `${f.readerAgency} ← ${f.sourceAgency}`;
    totals.set(key, (totals.get(key) ?? 0) + f.lookups);
  }
  return (
    <div class="card">
      <h2>{m.t('audit.flows')}</h2>
      <label style="max-width: 16rem">
        {m.t('audit.flowPeriod')}
        <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {[7, 30, 90, 365].map((n) => (
            <option key={n} value={String(n)}>
              {m.t('audit.days', { n })}
            </option>
          ))}
        </select>
      </label>
      {answer && !answer.ok && <Refusal answer={answer} />}
      <div class="grid">
        <figure>
          <figcaption>{m.t('audit.flowMap')}</figcaption>
          <div class="chart" ref={map} data-testid="flow-map" />
        </figure>
        <figure>
          <figcaption>{m.t('audit.flowSeries')}</figcaption>
          <div class="chart" ref={series} data-testid="flow-series" />
        </figure>
      </div>
      <table data-testid="flow-table">
        <caption>{m.t('audit.flowTable')}</caption>
        <thead>
          <tr>
            <th scope="col">
              {m.t('audit.reader')} ← {m.t('audit.source')}
            </th>
            <th scope="col">{m.t('audit.lookups')}</th>
          </tr>
        </thead>
        <tbody>
          {[...totals].map(([k, n]) => (
            <tr key={k}>
              <td>{k}</td>
              <td>{m.number(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LineagePanel({ session }: { session: Session }) {
  const m = useMessages();
  const [view, setView] = useState('citizens');
  const [id, setId] = useState('');
  const [answer, setAnswer] = useState<Answer<Lineage> | null>(null);
  return (
    <div class="card">
      <h2>{m.t('audit.lineage')}</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void lookup<Lineage>(session, `/v1/audit/lineage/${view}/${encodeURIComponent(id.trim())}`).then(
            setAnswer,
          );
        }}
      >
        <label>
          {m.t('audit.subjectView')}
          <select value={view} onChange={(e) => setView(e.currentTarget.value)}>
            {VIEWS.map((v) => (
              <option key={v} value={v}>
                {m.t(`view.${v}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m.t('audit.subjectId')}
          <input name="lineageId" required value={id} onInput={(e) => setId(e.currentTarget.value)} />
        </label>
        <button type="submit">{m.t('audit.lineageShow')}</button>
      </form>
      {answer && !answer.ok && <Refusal answer={answer} />}
      {answer?.ok && (
        <table data-testid="lineage">
          <thead>
            <tr>
              <th scope="col">{m.t('audit.path')}</th>
              <th scope="col">{m.t('audit.source')}</th>
              <th scope="col">{m.t('audit.coordinates')}</th>
              <th scope="col">{m.t('audit.event')}</th>
              <th scope="col">{m.t('audit.occurred')}</th>
              <th scope="col">{m.t('audit.trace')}</th>
            </tr>
          </thead>
          <tbody>
            {answer.body.sections.map((s) => (
              <tr key={s.path}>
                <td>{s.path}</td>
                <td>{s.source.agency}</td>
                <td>
                  {s.source.topic}/{s.source.partition}@{s.source.offset}
                </td>
                <td style="word-break: break-all">
                  {s.source.eventId}
                  {s.event && !s.event.found ? ` (${s.event.code})` : ''}
                </td>
                <td>{m.dateTime(s.source.occurredAt)}</td>
                <td style="word-break: break-all">{s.source.traceId ?? m.t('common.none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

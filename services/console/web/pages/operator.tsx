import { useEffect, useState } from 'preact/hooks';
import { connector, operations, registry } from '../api';
import { useMessages } from '../i18n';
import { parseMetrics, type Sample } from '../metrics';
import { type Session } from '../session';

/** The agency that owns a domain topic, by the topic's name (which a prefix may precede). */
const OWNERS: Readonly<Record<string, string>> = {
  'business-registration': 'HN-DKKD',
  dossier: 'HN-TTHCC',
  tax: 'HN-CUCTHUE',
  vehicle: 'HN-PC08',
};
const ownerOf = (topic: string): string =>
  Object.entries(OWNERS).find(
    ([name]) => topic === name || topic.endsWith(`.${name}`) || topic.endsWith(name),
  )?.[1] ?? '—';

interface Quarantined {
  code: string;
  total: number;
}

interface RegistryRow {
  subject: string;
  versions: number[];
  compatibility: string;
}

/** The operator's page: lag, dead letters, quarantine, drift, the registry and the metrics. */
export function OperatorPage({ session, connectors }: { session: Session; connectors: string[] }) {
  const m = useMessages();
  const [samples, setSamples] = useState<Sample[] | null>(null);
  const [ready, setReady] = useState<{ service: string; ok: boolean; detail: string }[]>([]);
  const [quarantine, setQuarantine] = useState<{ agency: string; code: string; count: number }[] | null>(
    null,
  );
  const [subjects, setSubjects] = useState<RegistryRow[] | null>(null);
  const services = ['lookup', 'sharing', 'registry', ...connectors.map((c) => `connectors/${c}`)];

  useEffect(() => {
    void operations<string>('sharing', '/metrics').then((a) =>
      setSamples(a.ok ? parseMetrics(String(a.body)) : []),
    );
    void Promise.all(
      services.map(async (service) => {
        const a = await operations<{ status?: string; detail?: string }>(service, '/readyz');
        return { service, ok: a.ok, detail: a.ok ? '' : (a.body?.detail ?? String(a.status)) };
      }),
    ).then(setReady);
    if (session.connectorKey) {
      void Promise.all(
        connectors.map(async (c) => {
          // The connector groups its open records by code, with each group's total.
          const a = await connector<{ groups: Quarantined[] }>(
            session,
            c,
            '/v1/quarantine?state=open&limit=1',
          );
          return (a.ok ? a.body.groups : []).map((g) => ({
            agency: OWNERS[c] ?? c,
            code: g.code,
            count: g.total,
          }));
        }),
      ).then((rows) => setQuarantine(rows.flat()));
    }
    void registry<string[]>(session, '/subjects').then(async (a) => {
      if (!a.ok) return setSubjects([]);
      const rows = await Promise.all(
        a.body.map(async (subject) => {
          const s = encodeURIComponent(subject);
          const [versions, config] = await Promise.all([
            registry<number[]>(session, `/subjects/${s}/versions`),
            registry<{ compatibilityLevel: string }>(session, `/config/${s}?defaultToGlobal=true`),
          ]);
          return {
            subject,
            versions: versions.ok ? versions.body : [],
            compatibility: config.ok ? config.body.compatibilityLevel : '—',
          };
        }),
      );
      setSubjects(rows);
    });
  }, []);

  // Per topic: the partitions' lags summed, and how many partitions there are.
  const lag = new Map<string, { behind: number; partitions: number }>();
  for (const s of (samples ?? []).filter((x) => x.name === 'sharing_consumer_lag')) {
    const topic = s.labels.topic ?? '';
    const t = lag.get(topic) ?? { behind: 0, partitions: 0 };
    lag.set(topic, { behind: t.behind + s.value, partitions: t.partitions + 1 });
  }
  const dead = (samples ?? []).filter(
    (s) => s.name === 'sharing_events_total' && s.labels.outcome === 'dead_lettered',
  );
  return (
    <section>
      <h1>{m.t('operator.title')}</h1>
      <h2>{m.t('operator.lag')}</h2>
      {!samples ? (
        <p>{m.t('common.loading')}</p>
      ) : (
        <table data-testid="lag">
          <thead>
            <tr>
              <th scope="col">{m.t('operator.topic')}</th>
              <th scope="col">{m.t('operator.partition')}</th>
              <th scope="col">{m.t('operator.messages')}</th>
            </tr>
          </thead>
          <tbody>
            {[...lag].sort().map(([topic, t]) => (
              <tr key={topic}>
                <td>{topic}</td>
                <td>{m.number(t.partitions)}</td>
                <td>{m.number(t.behind)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{m.t('operator.dead')}</h2>
      <table data-testid="dead-letters">
        <thead>
          <tr>
            <th scope="col">{m.t('audit.agency')}</th>
            <th scope="col">{m.t('operator.topic')}</th>
            <th scope="col">{m.t('operator.deadCount')}</th>
            <th scope="col">{m.t('audit.detail')}</th>
          </tr>
        </thead>
        <tbody>
          {dead.map((s) => (
            <tr key={s.labels.topic}>
              <td>{ownerOf(s.labels.topic ?? '')}</td>
              <td>{s.labels.topic}</td>
              <td>{m.number(s.value)}</td>
              <td>
                <code>{m.t('operator.redrive', { agency: ownerOf(s.labels.topic ?? '') })}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{m.t('operator.quarantine')}</h2>
      {!session.connectorKey ? (
        <p>{m.t('operator.quarantineNoKey')}</p>
      ) : (
        <table data-testid="quarantine">
          <thead>
            <tr>
              <th scope="col">{m.t('audit.agency')}</th>
              <th scope="col">{m.t('operator.code')}</th>
              <th scope="col">{m.t('operator.count')}</th>
            </tr>
          </thead>
          <tbody>
            {(quarantine ?? []).map((q) => (
              <tr key={`${q.agency}-${q.code}`}>
                <td>{q.agency}</td>
                <td>{q.code}</td>
                <td>{m.number(q.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{m.t('operator.drift')}</h2>
      <table data-testid="readiness">
        <thead>
          <tr>
            <th scope="col">{m.t('operator.service')}</th>
            <th scope="col">{m.t('audit.result')}</th>
            <th scope="col">{m.t('operator.metrics')}</th>
          </tr>
        </thead>
        <tbody>
          {ready.map((r) => (
            <tr key={r.service}>
              <td>{r.service}</td>
              <td class={r.ok ? 'ok' : 'bad'}>
                {r.ok ? m.t('operator.ready') : `${m.t('operator.notReady')}: ${r.detail}`}
              </td>
              <td>
                <a href={`/api/${r.service}/metrics`}>
                  /metrics <span class="sr-only">{r.service}</span>
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{m.t('operator.registry')}</h2>
      <table data-testid="registry">
        <thead>
          <tr>
            <th scope="col">{m.t('operator.subject')}</th>
            <th scope="col">{m.t('operator.versions')}</th>
            <th scope="col">{m.t('operator.compatibility')}</th>
          </tr>
        </thead>
        <tbody>
          {(subjects ?? []).map((s) => (
            <tr key={s.subject}>
              <td>{s.subject}</td>
              <td>{s.versions.join(', ')}</td>
              <td>{s.compatibility}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

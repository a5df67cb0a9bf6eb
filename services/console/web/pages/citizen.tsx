import { useEffect, useState } from 'preact/hooks';
import { type Answer, lookup } from '../api';
import { type MessageKey, useMessages } from '../i18n';
import { Refusal } from '../refusal';
import { type Session } from '../session';

interface Access {
  seq: number;
  at: string;
  officer: string;
  role: string;
  agency: string | null;
  dossierId: string | null;
  procedureCode: string | null;
  result: string;
  reason: string | null;
  fields: string[];
}

/** The kinds of data an access returned: the sections its fields belong to (`citizens.tax`). */
function kinds(fields: readonly string[]): string[] {
  return [...new Set(fields.map((f) => f.split('.').slice(0, 2).join('.').replace(/\[\]$/, '')))];
}

/** "Who looked at my data": the citizen's own access log, newest first. */
export function CitizenPage({ session }: { session: Session }) {
  const m = useMessages();
  const [answer, setAnswer] = useState<Answer<{ accesses: Access[] }> | null>(null);
  useEffect(() => {
    void lookup<{ accesses: Access[] }>(
      session,
      `/v1/citizens/${encodeURIComponent(session.sub)}/access-log?limit=100`,
    ).then(setAnswer);
  }, [session.sub]);
  return (
    <section>
      <h1>{m.t('citizen.title')}</h1>
      <p>{m.t('citizen.intro')}</p>
      {!answer && <p>{m.t('common.loading')}</p>}
      {answer && !answer.ok && <Refusal answer={answer} />}
      {answer?.ok &&
        (answer.body.accesses.length === 0 ? (
          <p>{m.t('citizen.none')}</p>
        ) : (
          <table data-testid="access-log">
            <thead>
              <tr>
                <th scope="col">{m.t('audit.at')}</th>
                <th scope="col">{m.t('audit.agency')}</th>
                <th scope="col">{m.t('audit.who')}</th>
                <th scope="col">{m.t('audit.dossier')}</th>
                <th scope="col">{m.t('citizen.procedure')}</th>
                <th scope="col">{m.t('citizen.kinds')}</th>
                <th scope="col">{m.t('citizen.through')}</th>
                <th scope="col">{m.t('audit.result')}</th>
              </tr>
            </thead>
            <tbody>
              {answer.body.accesses.map((a) => {
                const k = kinds(a.fields);
                const through = [
                  ...new Set(k.map((x) => x.split('.')[0]).filter((v) => v && v !== 'citizens')),
                ];
                return (
                  <tr key={a.seq}>
                    <td>{m.dateTime(a.at)}</td>
                    <td>{a.agency ?? m.t('common.none')}</td>
                    <td>
                      {a.officer} ({m.t(`role.${a.role}` as MessageKey)})
                    </td>
                    <td>{a.dossierId ?? m.t('common.none')}</td>
                    <td>{a.procedureCode ?? m.t('common.none')}</td>
                    <td>{k.join(', ') || m.t('common.none')}</td>
                    <td>
                      {through.map((v) => m.t(`view.${v}` as MessageKey)).join(', ') || m.t('common.none')}
                    </td>
                    <td class={a.result === 'allowed' ? 'ok' : 'bad'}>
                      {a.result === 'allowed' ? m.t('audit.allowed') : m.t('audit.denied')}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ))}
    </section>
  );
}

import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type ConsoleSettings, oidcSession, oidcSignOut, settings } from './api';
import { type Lang, type MessageKey, messages, MessagesContext } from './i18n';
import { AuditorPage } from './pages/auditor';
import { CitizenPage } from './pages/citizen';
import { DeskPage } from './pages/desk';
import { OperatorPage } from './pages/operator';
import { SignInPage } from './pages/sign-in';
import { loadSession, saveSession, type Session } from './session';

/** The page each role lands on, by its hash route. */
const HOME: Readonly<Record<Session['role'], string>> = {
  officer: 'desk',
  auditor: 'audit',
  citizen: 'citizen',
  operator: 'operator',
};
const NAV: Readonly<Record<Session['role'], MessageKey>> = {
  officer: 'nav.desk',
  auditor: 'nav.audit',
  citizen: 'nav.citizen',
  operator: 'nav.operator',
};

const route = (): string => location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
const initialLang = (): Lang => (new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'vi');

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [session, setSession] = useState<Session | null>(loadSession);
  const [config, setConfig] = useState<ConsoleSettings | null>(null);
  const [page, setPage] = useState(route);
  const m = useMemo(() => messages(lang), [lang]);

  useEffect(() => {
    const onHash = () => setPage(route());
    addEventListener('hashchange', onHash);
    void settings().then((a) => {
      if (!a.ok) return;
      setConfig(a.body);
      // Back from the issuer: the server holds a session this tab does not know yet.
      if (a.body.oidc && !loadSession())
        void oidcSession().then((s) => {
          if (s.ok) signIn({ ...s.body, oidc: true });
        });
    });
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = m.t('app.title');
  }, [lang, m]);

  // The bus's clock, which tests and demos may shift: the server's time, advanced locally.
  const offset = config ? Date.parse(config.now) - Date.now() : 0;
  const now = () => Date.now() + offset;

  const signIn = (s: Session) => {
    saveSession(s);
    setSession(s);
    location.hash = `#/${HOME[s.role]}`;
  };
  const signOut = () => {
    const wasOidc = session?.oidc;
    saveSession(null);
    setSession(null);
    location.hash = '#/sign-in';
    if (wasOidc)
      void oidcSignOut().then((a) => {
        if (a.ok && a.body.endSessionUrl) location.assign(a.body.endSessionUrl);
      });
  };

  let body;
  if (!session || page === 'sign-in' || !config) {
    body = config ? <SignInPage config={config} onSignIn={signIn} /> : <p>{m.t('common.loading')}</p>;
  } else if (session.role === 'officer') {
    body = <DeskPage session={session} />;
  } else if (session.role === 'auditor') {
    body = <AuditorPage session={session} now={now} />;
  } else if (session.role === 'citizen') {
    body = <CitizenPage session={session} />;
  } else {
    body = <OperatorPage session={session} connectors={config.connectors} />;
  }

  return (
    <MessagesContext.Provider value={m}>
      <a class="skip" href="#main">
        {m.t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">{m.t('app.title')}</span>
        {session && (
          <nav class="roles" aria-label={m.t('app.title')}>
            <a href={`#/${HOME[session.role]}`}>{m.t(NAV[session.role])}</a>
          </nav>
        )}
        {session && (
          <span>
            {m.t('nav.signedInAs', {
              who: `${session.sub}${session.agency ? ` (${session.agency})` : ''} · ${m.t(`role.${session.role}`)}`,
            })}
          </span>
        )}
        <button
          type="button"
          class="link"
          lang={lang === 'vi' ? 'en' : 'vi'}
          title={m.t('nav.languageLabel')}
          onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}
        >
          {m.t('nav.language')}
        </button>
        {session && (
          <button type="button" class="link" onClick={signOut}>
            {m.t('nav.signOut')}
          </button>
        )}
      </header>
      <main id="main">{body}</main>
      {config && (
        <footer class="meta" style="padding: 0 1rem 1rem">
          {m.t('common.now', { now: m.dateTime(now()) })}
        </footer>
      )}
    </MessagesContext.Provider>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);

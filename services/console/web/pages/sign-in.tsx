import { useState } from 'preact/hooks';
import { type ConsoleSettings, devSignIn } from '../api';
import { useMessages } from '../i18n';
import { type Session } from '../session';

const ROLES: Session['role'][] = ['officer', 'auditor', 'citizen', 'operator'];

/**
 * Development: one button per demo identity, and a form that mints one for any agency, both from
 * the dev issuer. Production: the sign-in through the agency's OpenID Connect issuer, when the
 * console is configured with one, or the bearer token the agency's identity provider issued.
 */
export function SignInPage({
  config,
  onSignIn,
}: {
  config: ConsoleSettings;
  onSignIn: (s: Session) => void;
}) {
  const m = useMessages();
  const [error, setError] = useState<string | null>(null);
  const [role, setRole] = useState<Session['role']>('officer');
  const [sub, setSub] = useState('');
  const [agency, setAgency] = useState('');
  const [token, setToken] = useState('');

  const mint = async (
    identity: { role: Session['role']; sub: string; agency?: string },
    dossierId?: string,
  ) => {
    setError(null);
    const answer = await devSignIn(identity);
    if (!answer.ok) {
      setError(
        m.t('signIn.failed', { detail: (answer.body as { detail?: string })?.detail ?? answer.status }),
      );
      return;
    }
    onSignIn({ ...answer.body, ...(dossierId ? { dossierId } : {}) });
  };

  // A link, not a script: the browser itself goes to the issuer and comes back with a session.
  const oidc = config.oidc && (
    <p>
      <a class="button" href="/auth/login" data-sign-in="oidc">
        {m.t('signIn.oidc')}
      </a>
      <br />
      <span class="meta">{m.t('signIn.oidcHint')}</span>
    </p>
  );

  if (config.mode === 'production') {
    return (
      <section>
        <h1>{m.t('signIn.title')}</h1>
        {oidc}
        <p>{m.t('signIn.production')}</p>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const claims = decodeClaims(token);
            if (!claims) return setError(m.t('signIn.failed', { detail: 'JWT' }));
            onSignIn({
              role: claims.role,
              sub: claims.sub,
              ...(claims.agency ? { agency: claims.agency } : {}),
              token,
            });
          }}
        >
          <label>
            {m.t('signIn.token')}
            <input value={token} onInput={(e) => setToken(e.currentTarget.value)} autoComplete="off" />
          </label>
          <button type="submit">{m.t('signIn.submit')}</button>
        </form>
        {error && (
          <p role="alert" class="bad">
            {error}
          </p>
        )}
      </section>
    );
  }

  return (
    <section>
      <h1>{m.t('signIn.title')}</h1>
      {oidc}
      <h2>{m.t('signIn.demo')}</h2>
      <p class="meta">{m.t('signIn.demoHint')}</p>
      <ul class="plain">
        {config.demo.map((d) => (
          <li key={`${d.role}-${d.sub}`} style="margin-bottom: .4rem">
            <button
              type="button"
              data-demo={d.role}
              onClick={() =>
                mint({ role: d.role, sub: d.sub, ...(d.agency ? { agency: d.agency } : {}) }, d.dossierId)
              }
            >
              {m.t('signIn.as', { label: `${m.t(`role.${d.role}`)} · ${d.label}` })}
            </button>
          </li>
        ))}
      </ul>
      <h2>{m.t('signIn.mint')}</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void mint({ role, sub: sub.trim(), ...(agency.trim() ? { agency: agency.trim() } : {}) });
        }}
      >
        <label>
          {m.t('signIn.role')}
          <select
            name="role"
            value={role}
            onChange={(e) => setRole(e.currentTarget.value as Session['role'])}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {m.t(`role.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m.t('signIn.sub')}
          <input name="sub" required value={sub} onInput={(e) => setSub(e.currentTarget.value)} />
        </label>
        <label>
          {m.t('signIn.agency')}
          <input
            name="agency"
            placeholder="HN-…"
            value={agency}
            onInput={(e) => setAgency(e.currentTarget.value)}
          />
        </label>
        <button type="submit">{m.t('signIn.submit')}</button>
      </form>
      {error && (
        <p role="alert" class="bad">
          {error}
        </p>
      )}
    </section>
  );
}

/** The claims of a JWT, read only to label the session: the services check the signature. */
function decodeClaims(token: string): { role: Session['role']; sub: string; agency?: string } | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const role = json.role as Session['role'];
    if (!['officer', 'auditor', 'citizen'].includes(role) || typeof json.sub !== 'string') return null;
    return { role, sub: json.sub, ...(typeof json.agency === 'string' ? { agency: json.agency } : {}) };
  } catch {
    return null;
  }
}

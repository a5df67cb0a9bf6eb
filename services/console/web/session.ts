/** Who is signed in, and what they present to the bus's services. Kept for the tab only. */
export interface Session {
  role: 'officer' | 'auditor' | 'citizen' | 'operator';
  sub: string;
  agency?: string;
  /** The bearer token the lookup service checks. */
  token?: string;
  /** The operator's registry credential (HTTP Basic). */
  registry?: { username: string; password: string };
  /** The operator's key for the connectors' quarantine routes (`X-API-Key`). */
  connectorKey?: string;
  /**
   * Signed in through the issuer: the console's server holds the tokens under an HttpOnly cookie
   * and adds them to lookup calls, so the page has none.
   */
  oidc?: boolean;
  /** The dossier an officer had at hand when they signed in. */
  dossierId?: string;
}

const KEY = 'lienthong.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

import { type Session } from './session';

/** An answer of a bus service, through the console's pass-through. */
export interface Answer<T = unknown> {
  status: number;
  ok: boolean;
  body: T;
  /** The problem's stable code on a refusal or error. */
  code?: string;
  /** The audit record the lookup service wrote for the call. */
  auditRecord?: string;
}

/** The console's settings, from its server. */
export interface ConsoleSettings {
  mode: 'development' | 'production';
  /** Whether the production sign-in through an OpenID Connect issuer is offered. */
  oidc?: boolean;
  now: string;
  connectors: string[];
  demo: { label: string; role: Session['role']; sub: string; agency?: string; dossierId?: string }[];
}

async function call<T>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch {
    return { status: 0, ok: false, body: null as T, code: 'UNAVAILABLE' };
  }
  const type = response.headers.get('content-type') ?? '';
  const body = (type.includes('json') ? await response.json() : await response.text()) as T;
  const code =
    response.ok || typeof body !== 'object' || body === null
      ? undefined
      : ((body as { code?: string }).code ?? `HTTP_${response.status}`);
  const auditRecord = response.headers.get('x-audit-record') ?? undefined;
  return {
    status: response.status,
    ok: response.ok,
    body,
    ...(code ? { code } : {}),
    ...(auditRecord ? { auditRecord } : {}),
  };
}

/** A GET to the lookup API with the session's bearer token, and the dossier at hand if any. */
export function lookup<T>(session: Session, path: string, dossierId?: string): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (dossierId) headers['x-dossier-id'] = dossierId;
  return call<T>(`/api/lookup${path}`, { headers });
}

/** A GET to the schema registry with the operator's credential. */
export function registry<T>(session: Session, path: string): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (session.registry) {
    headers.authorization = `Basic ${btoa(`${session.registry.username}:${session.registry.password}`)}`;
  }
  return call<T>(`/api/registry${path}`, { headers });
}

/** A GET to one agency's connector with the operator's key. */
export function connector<T>(session: Session, topic: string, path: string): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (session.connectorKey) headers['x-api-key'] = session.connectorKey;
  return call<T>(`/api/connectors/${encodeURIComponent(topic)}${path}`, { headers });
}

/** A public operations endpoint (`/metrics`, `/readyz`) of a service, as text or JSON. */
export function operations<T>(service: string, path: string): Promise<Answer<T>> {
  return call<T>(`/api/${service}${path}`);
}

/** Who is signed in through the issuer in this browser, if anyone: the server keeps the session. */
export function oidcSession(): Promise<Answer<{ role: Session['role']; sub: string; agency?: string }>> {
  return call('/auth/session', { headers: { accept: 'application/json' } });
}

/** Ends the console's session; answers where to end the issuer's too, if it offers that. */
export function oidcSignOut(): Promise<Answer<{ endSessionUrl?: string }>> {
  return call('/auth/logout', { method: 'POST', headers: { accept: 'application/json' } });
}

export function settings(): Promise<Answer<ConsoleSettings>> {
  return call<ConsoleSettings>('/console/config.json');
}

export function devSignIn(identity: {
  role: string;
  sub: string;
  agency?: string;
}): Promise<Answer<Session>> {
  return call<Session>('/console/dev/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(identity),
  });
}

/** The refusal's catalog key: a code the catalog explains, or a family of statuses. */
export function refusalKey(answer: Answer): string {
  const known = [
    'DOSSIER_NOT_FOUND',
    'DOSSIER_OTHER_AGENCY',
    'DOSSIER_CLOSED',
    'DOSSIER_OTHER_SUBJECT',
    'NO_POLICY',
    'VIEW_NOT_IN_POLICY',
    'ROLE_NOT_ALLOWED',
    'NOT_OWN_RECORD',
    'SUBJECT_NOT_FOUND',
    'INVALID_REQUEST',
    'RATE_LIMITED',
  ];
  if (answer.code && known.includes(answer.code)) return `refusal.${answer.code}`;
  if (answer.status === 401) return 'refusal.UNAUTHENTICATED';
  if (answer.status === 0 || answer.status >= 500) return 'refusal.UNAVAILABLE';
  return 'refusal.OTHER';
}

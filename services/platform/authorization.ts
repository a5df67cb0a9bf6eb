/**
 * The credentials of an `Authorization` header in the given scheme, or undefined when the header
 * is absent or names another scheme. The scheme is matched case-insensitively, so `bearer` and
 * `BASIC` work as `Bearer` and `Basic` do; one or more spaces may follow it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-authentication-scheme
 */
export function authorizationCredentials(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined;
  return header.slice(space).replace(/^ +/, '');
}

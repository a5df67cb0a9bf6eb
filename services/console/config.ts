import { type Static, Type } from '@sinclair/typebox';
import { ClockEnv, HttpEnv, loadConfig, LogEnv } from '../platform/config';
import { ConfigError, type ConfigIssue } from '../platform/errors';
import { claimMappingEnv, claimMappingOf } from '../lookup/config';
import { issuerUrlProblem } from '../lookup/jwks-keys';

/** The console's default port, after the lookup service's 8096. */
export const CONSOLE_PORT = 8097;

const url = (name: string, what: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', hint: `${name} must be the http(s) URL of ${what}` });

export const ConsoleEnv = Type.Object({
  ...LogEnv.properties,
  ...ClockEnv.properties,
  HOST: HttpEnv.properties.HOST,
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: CONSOLE_PORT,
    hint: 'PORT must be an integer from 0 to 65535',
  }),
  CONSOLE_LOOKUP_URL: url('CONSOLE_LOOKUP_URL', 'the lookup service'),
  CONSOLE_REGISTRY_URL: url('CONSOLE_REGISTRY_URL', 'the schema registry'),
  CONSOLE_SHARING_URL: url('CONSOLE_SHARING_URL', 'the sharing service'),
  CONSOLE_CONNECTOR_URLS: Type.String({
    minLength: 2,
    hint: 'CONSOLE_CONNECTOR_URLS must be a JSON object of topic to connector URL',
  }),
  CONSOLE_MODE: Type.Union([Type.Literal('development'), Type.Literal('production')], {
    default: 'production',
    hint: 'CONSOLE_MODE must be development or production',
  }),
  CONSOLE_DEV_STATE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      hint: 'CONSOLE_DEV_STATE_DIR must be the directory of the dev keys (.state/lookup)',
    }),
  ),
  CONSOLE_DEMO_FILE: Type.Optional(
    Type.String({ minLength: 1, hint: 'CONSOLE_DEMO_FILE must be the path of the demo identities file' }),
  ),
  CONSOLE_OIDC_ISSUER: Type.Optional(url('CONSOLE_OIDC_ISSUER', 'an OpenID Connect issuer')),
  CONSOLE_OIDC_CLIENT_ID: Type.Optional(
    Type.String({
      minLength: 1,
      hint: "CONSOLE_OIDC_CLIENT_ID must be the console's client id at the issuer",
    }),
  ),
  CONSOLE_OIDC_CLIENT_SECRET_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: "CONSOLE_OIDC_CLIENT_SECRET_FILE must be the path of the file holding the console's client secret",
    }),
  ),
  CONSOLE_PUBLIC_URL: Type.Optional(url('CONSOLE_PUBLIC_URL', 'the console as the browser reaches it')),
  CONSOLE_SESSION_KEYS_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      hint: 'CONSOLE_SESSION_KEYS_FILE must be the path of the file of keys the console seals its cookies with',
    }),
  ),
  CONSOLE_OIDC_SCOPE: Type.String({
    pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+( [\\x21\\x23-\\x5B\\x5D-\\x7E]+)*$',
    default: 'openid',
    hint: 'CONSOLE_OIDC_SCOPE must be space-separated scope names',
  }),
  CONSOLE_OIDC_RESOURCE: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z0-9+.-]*:[^\\s#]+$',
      hint: 'CONSOLE_OIDC_RESOURCE must be the absolute URI the lookup API is known by at the issuer',
    }),
  ),
  ...claimMappingEnv('CONSOLE_OIDC').properties,
  CONSOLE_ASSETS_DIR: Type.Optional(
    Type.String({ minLength: 1, hint: 'CONSOLE_ASSETS_DIR must be the directory of a built console' }),
  ),
});

export type ConsoleConfig = Static<typeof ConsoleEnv>;

/**
 * The console's configuration, checked once; development mode needs the dev keys' directory, and
 * an OpenID Connect issuer needs the client id, the secret's file, the console's public URL and
 * the file of keys its cookies are sealed with.
 */
export function consoleConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ConsoleConfig> {
  const config = loadConfig(ConsoleEnv, env);
  if (config.CONSOLE_OIDC_ISSUER === undefined) return config;
  const issues: ConfigIssue[] = [];
  for (const variable of [
    'CONSOLE_OIDC_CLIENT_ID',
    'CONSOLE_OIDC_CLIENT_SECRET_FILE',
    'CONSOLE_PUBLIC_URL',
    'CONSOLE_SESSION_KEYS_FILE',
  ] as const) {
    if (config[variable] === undefined)
      issues.push({ variable, message: `${variable} must be set when CONSOLE_OIDC_ISSUER is` });
  }
  for (const variable of ['CONSOLE_OIDC_ISSUER', 'CONSOLE_PUBLIC_URL'] as const) {
    const value = config[variable];
    const problem = value === undefined ? undefined : issuerUrlProblem(value);
    if (problem) issues.push({ variable, message: `${variable} ${problem}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  claimMappingOf(config, 'CONSOLE_OIDC');
  return config;
}

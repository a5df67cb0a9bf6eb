import { type Static, Type } from '@sinclair/typebox';
import { ClockEnv, HttpEnv, loadConfig, LogEnv } from '../platform/config';

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
  CONSOLE_ASSETS_DIR: Type.Optional(
    Type.String({ minLength: 1, hint: 'CONSOLE_ASSETS_DIR must be the directory of a built console' }),
  ),
});

export type ConsoleConfig = Static<typeof ConsoleEnv>;

/** The console's configuration, checked once; development mode needs the dev keys' directory. */
export function consoleConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ConsoleConfig> {
  return loadConfig(ConsoleEnv, env);
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offsetClock } from '../platform/clock';
import { ConfigError } from '../platform/errors';
import { runMain } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { ensureDevKeys, readPrivateKey } from '../lookup/dev-keys';
import { type DemoIdentity, type DevSignIn } from './app';
import { claimMappingOf } from '../lookup/config';
import { consoleConfig } from './config';
import { createOidcClient } from './oidc';
import { type OidcSignIn } from './oidc-routes';
import { readSessionKeys } from './sealed-cookie';
import { createConsoleService } from './console-service';

const logger = createLogger({ name: 'console' });

/** What `npm start` writes for the development sign-in: the demo identities and dev credentials. */
interface DemoFile {
  issuer: string;
  audience: string;
  demo: DemoIdentity[];
  operator?: DevSignIn['operator'];
}

void runMain({
  logger,
  build: () => {
    const config = consoleConfig();
    logger.level = config.LOG_LEVEL;
    const clock = offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger);
    let connectors: Record<string, string>;
    try {
      connectors = JSON.parse(config.CONSOLE_CONNECTOR_URLS) as Record<string, string>;
    } catch {
      throw new ConfigError([
        {
          variable: 'CONSOLE_CONNECTOR_URLS',
          message: 'CONSOLE_CONNECTOR_URLS must be a JSON object of topic to connector URL',
        },
      ]);
    }
    let devSignIn: DevSignIn | undefined;
    if (config.CONSOLE_MODE === 'development') {
      if (!config.CONSOLE_DEV_STATE_DIR) {
        throw new ConfigError([
          {
            variable: 'CONSOLE_DEV_STATE_DIR',
            message: 'CONSOLE_DEV_STATE_DIR must be set in development mode: the dev keys of .state/lookup',
          },
        ]);
      }
      const keys = ensureDevKeys(config.CONSOLE_DEV_STATE_DIR);
      const demo: DemoFile = config.CONSOLE_DEMO_FILE
        ? (JSON.parse(readFileSync(config.CONSOLE_DEMO_FILE, 'utf8')) as DemoFile)
        : { issuer: 'lienthong-dev', audience: 'lienthong-lookup', demo: [] };
      devSignIn = {
        signingKey: readPrivateKey(keys.tokenSigningKey),
        issuer: demo.issuer,
        audience: demo.audience,
        ttlSeconds: 8 * 3_600,
        demo: demo.demo,
        ...(demo.operator ? { operator: demo.operator } : {}),
      };
    }
    let oidc: OidcSignIn | undefined;
    if (config.CONSOLE_OIDC_ISSUER) {
      const publicUrl = (config.CONSOLE_PUBLIC_URL as string).replace(/\/$/, '');
      const secretFile = config.CONSOLE_OIDC_CLIENT_SECRET_FILE as string;
      let clientSecret: string;
      try {
        // From a file, never from argv or the environment, where other processes can read it.
        clientSecret = readFileSync(secretFile, 'utf8').trim();
      } catch (err) {
        throw new ConfigError(
          [
            {
              variable: 'CONSOLE_OIDC_CLIENT_SECRET_FILE',
              message: `CONSOLE_OIDC_CLIENT_SECRET_FILE: ${secretFile} cannot be read`,
            },
          ],
          { cause: err },
        );
      }
      oidc = {
        client: createOidcClient({
          issuer: config.CONSOLE_OIDC_ISSUER,
          clientId: config.CONSOLE_OIDC_CLIENT_ID as string,
          clientSecret,
          redirectUri: `${publicUrl}/auth/callback`,
          scope: config.CONSOLE_OIDC_SCOPE,
          ...(config.CONSOLE_OIDC_RESOURCE ? { resource: config.CONSOLE_OIDC_RESOURCE } : {}),
          clock,
        }),
        claims: claimMappingOf(config, 'CONSOLE_OIDC'),
        publicUrl,
        sessionKeys: readSessionKeys(config.CONSOLE_SESSION_KEYS_FILE as string),
      };
    }
    if (config.CONSOLE_MODE === 'production' && !oidc)
      logger.warn('The console offers no sign-in: CONSOLE_OIDC_ISSUER is not set and the mode is production');
    return createConsoleService({
      logger,
      clock,
      upstreams: {
        lookup: config.CONSOLE_LOOKUP_URL,
        registry: config.CONSOLE_REGISTRY_URL,
        sharing: config.CONSOLE_SHARING_URL,
        connectors,
      },
      ...(devSignIn ? { devSignIn } : {}),
      ...(oidc ? { oidc } : {}),
      ...(config.CONSOLE_ASSETS_DIR ? { assetsDir: join(config.CONSOLE_ASSETS_DIR) } : {}),
      host: config.HOST,
      port: config.PORT,
    });
  },
});

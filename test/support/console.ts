import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConsoleUpstreams, type DevSignIn } from '../../services/console/app';
import { type ConsoleService, createConsoleService } from '../../services/console/console-service';
import { createLogger } from '../../services/platform/logger';
import { scratchDir } from './fixtures';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from './lookup';

/**
 * The console's server in front of a test's services, listening on a port of its own, with a
 * placeholder page instead of the built browser code (building it takes seconds, and the server
 * serves whatever it is given alike) and the development sign-in minting with `signingKey`, the
 * key the test's lookup service trusts.
 */
export function consoleHarness() {
  const page = scratchDir('console-page');
  writeFileSync(join(page.path, 'index.html'), '<!doctype html><html lang="vi"></html>');
  let service: ConsoleService | undefined;
  return {
    async start(upstreams: ConsoleUpstreams, signingKey: DevSignIn['signingKey']): Promise<string> {
      service = createConsoleService({
        logger: createLogger({ name: 'it-console', level: 'silent' }),
        assetsDir: page.path,
        upstreams,
        devSignIn: { signingKey, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, ttlSeconds: 600, demo: [] },
        host: '127.0.0.1',
        port: 0,
      });
      await service.start();
      return service.url();
    },
    async stop(): Promise<void> {
      await service?.stop();
      service = undefined;
      page.remove();
    },
  };
}

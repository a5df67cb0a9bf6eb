import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FastifyInstance } from 'fastify';
import { createLifecycle, type Service } from '../platform/lifecycle';
import { buildConsoleApp, type ConsoleAppOptions } from './app';
import { buildConsoleAssets } from './assets';

export interface ConsoleDeps extends Omit<ConsoleAppOptions, 'assetsDir'> {
  /** A built console; by default the browser code is built at start into a directory of its own. */
  assetsDir?: string;
  host: string;
  port: number;
}

export interface ConsoleService extends Service {
  app(): FastifyInstance;
  url(): string;
}

/**
 * The console as a service: builds the browser code (unless given built), then listens.
 * Stop: close the server (in-flight calls finish), then remove the assets it built.
 */
export function createConsoleService(deps: ConsoleDeps): ConsoleService {
  let app: FastifyInstance | undefined;
  let url = '';
  let built: string | undefined;
  const lifecycle = createLifecycle('console', {
    async start() {
      let assetsDir = deps.assetsDir;
      if (!assetsDir) {
        built = mkdtempSync(join(tmpdir(), 'lienthong-console-'));
        assetsDir = (await buildConsoleAssets(built)).dir;
      }
      app = await buildConsoleApp({ ...deps, assetsDir });
      url = await app.listen({ host: deps.host, port: deps.port });
    },
    async stop() {
      await app?.close();
      if (built) rmSync(built, { recursive: true, force: true });
    },
  });
  return {
    ...lifecycle,
    app: () => {
      if (!app) throw new Error('The console is not started');
      return app;
    },
    url: () => url,
  };
}

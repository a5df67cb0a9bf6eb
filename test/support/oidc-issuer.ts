import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the local issuer's `lienthong` claim holds for an account: the issuer's role names and agency. */
export interface IssuerAccount {
  roles: string[];
  agency?: string;
}

export interface LocalIssuer {
  /** The issuer's URL, as its tokens name it. */
  issuer: string;
  stop(): Promise<void>;
}

/**
 * oidc-provider from npm as a child process on a free loopback port (see oidc-issuer-process.mjs), with one
 * confidential client and the given accounts. Stopped by `stop`, and killed with the test process.
 */
export async function startLocalIssuer(options: {
  client: {
    client_id: string;
    client_secret: string;
    redirect_uri: string;
    post_logout_redirect_uri: string;
  };
  accounts: Readonly<Record<string, IssuerAccount>>;
  resource: string;
}): Promise<LocalIssuer> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'oidc-issuer-process.mjs')], {
    env: {
      ...process.env,
      OIDC_CLIENT: JSON.stringify(options.client),
      OIDC_ACCOUNTS: JSON.stringify(options.accounts),
      OIDC_RESOURCE: options.resource,
      // oidc-provider warns of the development adapter and of Node 20 on every start.
      NODE_NO_WARNINGS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`The local issuer stopped (${code}): ${errors.join('')}`)));
  });
  const { issuer } = JSON.parse(first) as { issuer: string };
  return {
    issuer,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

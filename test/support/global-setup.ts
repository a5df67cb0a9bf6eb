import { readFileSync } from 'node:fs';
import { runContractTool } from '../../schemas/contract-tool';
import { provideTestStack, type TestStack } from './test-stack';

/** Shared with global-teardown.ts: jest runs both in the same process. */
declare global {
  var lienthongTestStack: TestStack | undefined;
}

/** Brings the real stack up once per run, and hands its endpoints to the test workers. */
export default async function globalSetup(): Promise<void> {
  const progress = (line: string): void => {
    process.stderr.write(`[test stack] ${line}\n`);
  };
  const stack = await provideTestStack(process.env, progress);
  globalThis.lienthongTestStack = stack;
  // Workers are forked after global setup, so they inherit these.
  Object.assign(process.env, stack.endpoints, stack.kafkaEnv);
  if (stack.registryKeysFile) {
    process.env.SCHEMA_REGISTRY_KEYS_FILE = stack.registryKeysFile;
    // Connectors under test read their topic's schema from the registry, as in production.
    const keys = JSON.parse(readFileSync(stack.registryKeysFile, 'utf8')) as Record<string, string>;
    const code = await runContractTool('register', { url: stack.endpoints.SCHEMA_REGISTRY_URL, keys });
    if (code !== 0) throw new Error('Registering the contracts in the test registry failed');
  }
  progress(
    `kafka ${stack.endpoints.KAFKA_BROKERS} (${stack.source.KAFKA_BROKERS}), ` +
      `store ${stack.endpoints.MONGODB_URI} (${stack.source.MONGODB_URI}), ` +
      `registry ${stack.endpoints.SCHEMA_REGISTRY_URL} (${stack.source.SCHEMA_REGISTRY_URL})`,
  );
}

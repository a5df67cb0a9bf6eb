import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { runContractTool } from '../../schemas/contract-tool';
import { testKafkaEnv } from '../support/test-stack';

/**
 * Brings the local stack up, with the contracts registered, and points this process's environment
 * at it as jest's global setup does, so that the test harnesses run outside jest.
 */
export async function benchStack(log: (line: string) => void): Promise<LocalStack> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  if (stack.registry) {
    await runContractTool('register', { url: stack.registry.url, keys: stack.registry.keys() });
    Object.assign(process.env, stack.endpoints, testKafkaEnv(stack), {
      SCHEMA_REGISTRY_KEYS_FILE: stack.registry.keysFile,
    });
  } else {
    // An external registry: its reader's key comes from SCHEMA_REGISTRY_KEYS_FILE, as in the tests.
    Object.assign(process.env, stack.endpoints, testKafkaEnv(stack));
  }
  return stack;
}

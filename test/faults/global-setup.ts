import globalSetup from '../support/global-setup';

/**
 * The integration suite's stack, with Kafka as the local cluster of three: the faults are the
 * test's to make, so an external Kafka is refused rather than used.
 */
export default async function faultsGlobalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS)
    throw new Error('test:faults kills and restarts the nodes of the local cluster: unset KAFKA_BROKERS');
  process.env.LOCAL_KAFKA_BROKERS = '3';
  await globalSetup();
}

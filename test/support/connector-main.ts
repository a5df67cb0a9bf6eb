/**
 * A connector process as `connectors/<agency>/main.ts` runs it, publishing to a test file's own
 * topic: `tsx test/support/connector-main.ts <agency name> <topic> <redrive log topic>`, with the
 * rest of its config (spool, keys, port, lease) in the environment.
 */
import { businessRegistrationConnector } from '../../connectors/business-registration/index';
import { dossierConnector } from '../../connectors/dossier/index';
import { runConnector } from '../../connectors/runtime/run-connector';
import { taxConnector } from '../../connectors/tax/index';
import { vehicleConnector } from '../../connectors/vehicle/index';

const definitions = [businessRegistrationConnector, dossierConnector, taxConnector, vehicleConnector];
const [name, topicOverride, redriveLogTopic] = process.argv.slice(2);
const definition = definitions.find((d) => d.name === name);
if (!definition || !topicOverride || !redriveLogTopic) {
  throw new Error('Usage: connector-main.ts <agency name> <topic> <redrive log topic>');
}
runConnector(definition, { topicOverride, redriveLogTopic });

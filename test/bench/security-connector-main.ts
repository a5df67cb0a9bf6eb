// The tax connector's own entry point (connectors/tax/main.ts), publishing to the scratch topic
// `npm run bench:security` names as its argument instead of the contract's.
import '../../services/platform/telemetry-preload';
import { runConnector } from '../../connectors/runtime/run-connector';
import { taxConnector } from '../../connectors/tax';

const topic = process.argv[2];
if (!topic) throw new Error('usage: security-connector-main.ts <scratch topic>');
runConnector(taxConnector, { topicOverride: topic });

// First: telemetry must be running before the modules it instruments are loaded.
import '../../services/platform/telemetry-preload';
import { runConnector } from '../runtime/run-connector';
import { vehicleConnector } from './index';

runConnector(vehicleConnector);

import { TOPICS } from '../../schemas/topics';
import { type AgencyDefinition } from '../runtime/agency';
import { VEHICLE_CSV_COLUMNS, vehicleRowToNative } from './csv';
import { mapVehicleRecord } from './mapping';
import { VehicleNativeSchema, type VehicleNativeRecord } from './native-record';

/** The traffic police's connector: its vehicle register's records become `vehicle` events. */
export const vehicleConnector: AgencyDefinition<'vehicle', VehicleNativeRecord> = {
  name: 'vehicle',
  topic: 'vehicle',
  agency: TOPICS.vehicle.owner,
  nativeSchema: VehicleNativeSchema,
  map: mapVehicleRecord,
  csv: { columns: VEHICLE_CSV_COLUMNS, toNative: vehicleRowToNative },
};

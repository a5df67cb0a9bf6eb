export { vehicleConnector } from './connector';
export { VEHICLE_CSV_COLUMNS, vehicleRowToNative } from './csv';
export { mapVehicleRecord } from './mapping';
export * from './native-record';

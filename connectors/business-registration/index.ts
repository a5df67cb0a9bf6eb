export { businessRegistrationConnector } from './connector';
export { BUSINESS_REGISTRATION_CSV_COLUMNS, businessRegistrationRowToNative } from './csv';
export { mapBusinessRegistrationRecord } from './mapping';
export * from './native-record';

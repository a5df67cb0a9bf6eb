export { taxConnector } from './connector';
export { TAX_CSV_COLUMNS, taxRowToNative } from './csv';
export { mapTaxRecord } from './mapping';
export * from './native-record';

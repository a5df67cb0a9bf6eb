export { dossierConnector } from './connector';
export { DOSSIER_CSV_COLUMNS, dossierRowToNative } from './csv';
export { mapDossierRecord } from './mapping';
export * from './native-record';

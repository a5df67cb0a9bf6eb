import { TOPICS } from '../../schemas/topics';
import { type AgencyDefinition } from '../runtime/agency';
import { DOSSIER_CSV_COLUMNS, dossierRowToNative } from './csv';
import { mapDossierRecord } from './mapping';
import { DossierNativeSchema, type DossierNativeRecord } from './native-record';

/** The one-stop-shop dossier system's connector: its dossier records become `dossier` events. */
export const dossierConnector: AgencyDefinition<'dossier', DossierNativeRecord> = {
  name: 'dossier',
  topic: 'dossier',
  agency: TOPICS.dossier.owner,
  nativeSchema: DossierNativeSchema,
  map: mapDossierRecord,
  csv: { columns: DOSSIER_CSV_COLUMNS, toNative: dossierRowToNative },
};

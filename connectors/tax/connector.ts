import { TOPICS } from '../../schemas/topics';
import { type AgencyDefinition } from '../runtime/agency';
import { TAX_CSV_COLUMNS, taxRowToNative } from './csv';
import { mapTaxRecord } from './mapping';
import { TaxNativeSchema, type TaxNativeRecord } from './native-record';

/** The tax department's connector: records of its taxpayer register become `tax` events. */
export const taxConnector: AgencyDefinition<'tax', TaxNativeRecord> = {
  name: 'tax',
  topic: 'tax',
  agency: TOPICS.tax.owner,
  nativeSchema: TaxNativeSchema,
  map: mapTaxRecord,
  csv: { columns: TAX_CSV_COLUMNS, toNative: taxRowToNative },
};

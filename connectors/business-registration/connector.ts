import { TOPICS } from '../../schemas/topics';
import { type AgencyDefinition } from '../runtime/agency';
import { BUSINESS_REGISTRATION_CSV_COLUMNS, businessRegistrationRowToNative } from './csv';
import { mapBusinessRegistrationRecord } from './mapping';
import { BusinessRegistrationNativeSchema, type BusinessRegistrationNativeRecord } from './native-record';

/** The business registration office's connector: its register's records become `business-registration` events. */
export const businessRegistrationConnector: AgencyDefinition<
  'business-registration',
  BusinessRegistrationNativeRecord
> = {
  name: 'business-registration',
  topic: 'business-registration',
  agency: TOPICS['business-registration'].owner,
  nativeSchema: BusinessRegistrationNativeSchema,
  map: mapBusinessRegistrationRecord,
  csv: { columns: BUSINESS_REGISTRATION_CSV_COLUMNS, toNative: businessRegistrationRowToNative },
};

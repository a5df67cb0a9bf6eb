import * as path from 'node:path';

/**
 * The governed topics: one per domain aggregate, each with one value subject and one owning agency.
 *
 * - `valueSubject` follows Confluent's default TopicNameStrategy (`<topic>-value`), so stock
 *   serializers and registries find the schema without configuration.
 * - `keyField` is the payload field every event of the topic carries and is keyed by, so that one
 *   entity's events land in one partition and stay in order.
 * - `owner` is the only agency allowed to publish to the topic; its code is the `sourceAgency` of
 *   every event there.
 * - `schemaPath` is relative to the repository root; see {@link resolveSchemaPath}.
 */
export const TOPICS = {
  dossier: {
    topic: 'dossier',
    valueSubject: 'dossier-value',
    // Trung tâm Phục vụ hành chính công: runs the one-stop-shop desks and the dossier system.
    owner: 'HN-TTHCC',
    keyField: 'dossierId',
    schemaPath: 'schemas/dossier.avsc',
    envelope: 'vn.hanoi.lienthong.dossier.DossierEvent',
  },
  tax: {
    topic: 'tax',
    valueSubject: 'tax-value',
    // Cục Thuế thành phố Hà Nội: the tax department.
    owner: 'HN-CUCTHUE',
    keyField: 'taxCode',
    schemaPath: 'schemas/tax.avsc',
    envelope: 'vn.hanoi.lienthong.tax.TaxEvent',
  },
  'business-registration': {
    topic: 'business-registration',
    valueSubject: 'business-registration-value',
    // Phòng Đăng ký kinh doanh: the business registration office.
    owner: 'HN-DKKD',
    keyField: 'enterpriseCode',
    schemaPath: 'schemas/business-registration.avsc',
    envelope: 'vn.hanoi.lienthong.business_registration.BusinessRegistrationEvent',
  },
  vehicle: {
    topic: 'vehicle',
    valueSubject: 'vehicle-value',
    // PC08, Phòng Cảnh sát giao thông: registers road vehicles in Hà Nội.
    owner: 'HN-PC08',
    keyField: 'plate',
    schemaPath: 'schemas/vehicle.avsc',
    envelope: 'vn.hanoi.lienthong.vehicle.VehicleEvent',
  },
} as const;

/** The name of a governed topic. */
export type TopicName = keyof typeof TOPICS;

/** One row of {@link TOPICS}. */
export type TopicContract = (typeof TOPICS)[TopicName];

/** The topic names, in the order of {@link TOPICS}. */
export const TOPIC_NAMES = Object.keys(TOPICS) as TopicName[];

/**
 * The absolute path of a topic's `.avsc`. `rootDir` defaults to the repository root as seen from
 * this source file; a compiled build, which does not copy `.avsc` files, must pass it.
 */
export function resolveSchemaPath(topic: TopicName, rootDir: string = path.resolve(__dirname, '..')): string {
  return path.join(rootDir, TOPICS[topic].schemaPath);
}

import { createHash } from 'node:crypto';

/** RFC 9562's namespace for names that are URLs, `6ba7b811-9dad-11d1-80b4-00c04fd430c8`. */
export const UUID_NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/**
 * The namespace of lienthong's event ids: itself the v5 UUID of the URL
 * `https://lienthong.hanoi.gov.vn/ns/event-id` in {@link UUID_NAMESPACE_URL}, so anyone can derive it
 * again. Never change it: every event id already published depends on it.
 */
export const LIENTHONG_EVENT_NAMESPACE = '12e455e1-92d8-567b-936c-9d12e9093774';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A name-based UUID, version 5: SHA-1 of the namespace's 16 bytes followed by the name's UTF-8
 * bytes, cut to 16 bytes, with the version (5) and variant (10) bits set.
 *
 * @throws {TypeError} if `namespace` is not a UUID
 * @see https://www.rfc-editor.org/rfc/rfc9562#name-uuid-version-5
 */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID_PATTERN.test(namespace)) throw new TypeError('The namespace must be a UUID');
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of the event that one version of one source record becomes: a v5 UUID in
 * {@link LIENTHONG_EVENT_NAMESPACE} of the JSON array `[agency, sourceRecordId, sourceVersion]`.
 * The same record sent again gets the same id, so it cannot have a second effect; a new version
 * gets a new one. JSON keeps the three parts apart whatever characters a record id holds.
 *
 * @param agency the code of the agency that owns the topic, the event's `sourceAgency`
 */
export function eventIdFor(agency: string, sourceRecordId: string, sourceVersion: number): string {
  return uuidV5(LIENTHONG_EVENT_NAMESPACE, JSON.stringify([agency, sourceRecordId, sourceVersion]));
}

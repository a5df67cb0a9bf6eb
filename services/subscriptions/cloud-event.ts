import { type DerivedValue } from './derived-schema';

/** A derived event as a CloudEvents 1.0 JSON event. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** Extension attributes: lower-case letters and digits only, as CloudEvents wants. */
  agreementversion: string;
  sourceagency: string;
  sourceeventid: string;
  data: Record<string, unknown>;
}

/**
 * The CloudEvent a webhook body or a feed entry carries: `id` is the derived eventId (the
 * idempotency key), `subject` the entity key, `data` the payload record (what the agreement allows
 * now, {@link DerivedContract.reproject}). Timestamps in `data` stay epoch milliseconds, decimals
 * strings, and a union of records a one-key object named by the branch, as in the Avro contract.
 *
 * @see https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md
 */
export function cloudEventOf(value: DerivedValue, key: string, data: Record<string, unknown>): CloudEvent {
  return {
    specversion: '1.0',
    id: value.eventId,
    source: `/lienthong/agreements/${value.agreementId}`,
    type: `vn.hanoi.lienthong.${value.eventType}`,
    subject: key,
    time: new Date(value.occurredAt).toISOString(),
    datacontenttype: 'application/json',
    agreementversion: value.agreementVersion,
    sourceagency: value.sourceAgency,
    sourceeventid: value.sourceEventId,
    data,
  };
}

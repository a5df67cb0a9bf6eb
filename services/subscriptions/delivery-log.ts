import { type Collection, type Db } from 'mongodb';

/** The subscriptions service's own collection: one document per delivery of one event to one subscription. */
export const DELIVERIES_COLLECTION = 'subscription_deliveries';

export const DELIVERY_STATUSES = ['retrying', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One delivery as the log keeps it. */
export interface DeliveryRecord {
  /** `<subscription id>/<eventId>`: a resend updates the same record. */
  _id: string;
  subscriptionId: string;
  channel: 'webhook';
  agreementId: string;
  /** The agreement's version when the event was sent. */
  agreementVersion: string;
  consumer: string;
  /** The derived eventId, which is the webhook's idempotency key. */
  eventId: string;
  eventType: string;
  /** Where the derived event is in its topic. */
  topic: string;
  partition: number;
  offset: string;
  /**
   * The citizens whose data the delivery carried (the source event's subjects), for the citizen's
   * access log: the derived event itself does not name them.
   */
  citizenIds: string[];
  status: DeliveryStatus;
  attempts: number;
  /** The last failure: an HTTP status, or an error's code; null once delivered. */
  lastError: string | null;
  firstAttemptAt: Date;
  lastAttemptAt: Date;
  deliveredAt: Date | null;
  /** How often an operator sent it again since it was dead-lettered; absent until then. */
  redrives?: number;
}

export interface DeliveryLog {
  /** Records an attempt's outcome: the first creates the record, later ones update it. */
  record(delivery: Omit<DeliveryRecord, 'attempts' | 'firstAttemptAt'>, attempts: number): Promise<void>;
  /**
   * Records a redrive's outcome: delivered, or still dead with the new error; both count the
   * redrive. Only a dead record is touched, which its dispatcher no longer writes.
   */
  redriven(id: string, outcome: { error: string | null; at: Date }): Promise<void>;
  /** A subscription's deliveries, newest first, `limit` at most. */
  list(
    subscriptionId: string,
    options: { limit: number; status?: DeliveryStatus },
  ): Promise<DeliveryRecord[]>;
}

/**
 * The delivery log in MongoDB. One writer per record at a time: a subscription's events are sent
 * one partition at a time, each record by the one partition that holds its event.
 */
export function createDeliveryLog(db: Db): DeliveryLog {
  const deliveries: Collection<DeliveryRecord> = db.collection<DeliveryRecord>(DELIVERIES_COLLECTION);
  return {
    async record(delivery, attempts) {
      const { _id, ...rest } = delivery;
      await deliveries.updateOne(
        { _id },
        { $set: { ...rest, attempts }, $setOnInsert: { firstAttemptAt: delivery.lastAttemptAt } },
        { upsert: true },
      );
    },
    async redriven(id, { error, at }) {
      await deliveries.updateOne(
        { _id: id, status: 'dead' },
        {
          $set: {
            status: error === null ? 'delivered' : 'dead',
            lastError: error,
            lastAttemptAt: at,
            deliveredAt: error === null ? at : null,
          },
          $inc: { redrives: 1, attempts: 1 },
        },
      );
    },
    list(subscriptionId, { limit, status }) {
      return deliveries
        .find({ subscriptionId, ...(status ? { status } : {}) })
        .sort({ lastAttemptAt: -1, _id: -1 })
        .limit(limit)
        .toArray();
    },
  };
}

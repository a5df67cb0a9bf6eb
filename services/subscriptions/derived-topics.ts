import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import { type TopicDeclaration } from '../platform/topic-policy';

/** The groups of the subscriptions service, one per agreement; the ACLs grant its principal this prefix. */
export const DEFAULT_SUBSCRIPTIONS_GROUP = 'lienthong-subscriptions';

/** The consumer group that derives one agreement's topic. */
export function derivationGroupOf(agreementId: string, groupPrefix = DEFAULT_SUBSCRIPTIONS_GROUP): string {
  return `${groupPrefix}.${agreementId}`;
}

/** An agreement's derived topic; `prefix` for a test's own. */
export function derivedTopicOf(agreementId: string, prefix = ''): string {
  return `${prefix}agreement.${agreementId}`;
}

/** The groups the consumer agency's system may read its derived topic in: the topic's name and a dot. */
export function consumerGroupPrefixOf(derivedTopic: string): string {
  return `${derivedTopic}.`;
}

/**
 * A derived topic as the topic policy creates it: as many partitions as a domain topic, so that a
 * source partition maps to one derived partition and one entity's events stay in order.
 */
export function derivedTopicDeclaration(topic: string): TopicDeclaration {
  return { topic, kind: 'derived', numPartitions: DOMAIN_TOPIC_PARTITIONS };
}

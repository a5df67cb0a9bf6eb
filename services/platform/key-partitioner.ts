import { type PartitionMetadata, Partitioners } from 'kafkajs';

/**
 * The partition of a keyed record, exactly as kafkajs's `Partitioners.DefaultPartitioner` (and
 * the Java client's default partitioner) picks it: `toPositive(murmur2(key)) % numPartitions`.
 * It reuses kafkajs's own function, fed with `numPartitions` partitions of metadata. The
 * connectors' publisher sets it on every record to know its offset; the sharing service routes
 * changes by it to the member that owns a document.
 *
 * @see https://github.com/apache/kafka/blob/3.9/clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java (`partitionForKey`)
 */
export function createKeyPartitioner(): (topic: string, key: string, numPartitions: number) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const metadata = new Map<number, PartitionMetadata[]>();
  return (topic, key, numPartitions) => {
    let partitionMetadata = metadata.get(numPartitions);
    if (partitionMetadata === undefined) {
      partitionMetadata = Array.from({ length: numPartitions }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
      }));
      metadata.set(numPartitions, partitionMetadata);
    }
    return partitioner({ topic, partitionMetadata, message: { key, value: null } });
  };
}

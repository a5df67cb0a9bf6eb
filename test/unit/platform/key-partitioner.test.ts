import { createKeyPartitioner } from '../../../services/platform/key-partitioner';

// kafkajs's own murmur2, to check the partitioner against the hash, not against itself.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string) => number;

describe('createKeyPartitioner', () => {
  it('matches the Java client: positive murmur2 of the key modulo the partition count', () => {
    const partition = createKeyPartitioner();
    for (const key of ['0108912347', '29A-123.45', 'HS-2024-000001', 'đăng ký', '']) {
      for (const n of [1, 3, 6, 12]) {
        expect(partition('t', key, n)).toBe((murmur2(key) & 0x7fffffff) % n);
      }
    }
    // A value from the Java client's own test vectors (Utils.murmur2 of "21" is -973932308).
    expect(murmur2('21')).toBe(-973932308);
  });
});

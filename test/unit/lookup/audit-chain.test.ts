import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  type AuditEntry,
  auditId,
  type AuditRecord,
  type AuditSeal,
  type Breach,
  canonicalJson,
  chain,
  compareWithCopy,
  GENESIS_HASH,
  keyIdOf,
  recordHash,
  recordJson,
  sealHead,
  verifyChain,
} from '../../../services/lookup/audit-chain';

const sealKey = generateKeyPairSync('ed25519');
const publicKeys: ReadonlyMap<string, KeyObject> = new Map([[keyIdOf(sealKey.publicKey), sealKey.publicKey]]);
const START = Date.UTC(2026, 10, 30, 2);

function entry(n: number): AuditEntry {
  return {
    action: 'GET /v1/citizens/:id',
    actor: { id: `CB-${String(n).padStart(4, '0')}`, agency: 'HN-PC08', role: 'officer' },
    subject: { view: 'citizens', id: '001089012345' },
    dossierId: '000.20.31.H26-240312-0012',
    procedureCode: '1.010700',
    fields: ['citizens.identity.citizenId', 'citizens.tax[].taxCode'],
    sources: ['HN-CUCTHUE'],
    result: 'allowed',
    reason: null,
    status: 200,
    traceId: null,
    masks: [],
    policyVersion: 'f'.repeat(64),
  };
}

/** Records 1 to `count`, each chained to the one before, a second apart. */
function chainOf(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq += 1) {
    const record = chain(entry(seq), seq, prevHash, new Date(START + seq * 1_000));
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

const sealOf = (record: AuditRecord): AuditSeal =>
  sealHead(
    { seq: record.seq, hash: record.hash, at: new Date(START + 60_000) },
    sealKey.privateKey,
    sealKey.publicKey,
  );

/** The records as the store's cursor gives them: sorted by `_id`. */
async function* stored(records: readonly AuditRecord[]): AsyncIterable<AuditRecord> {
  yield* [...records].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
}

const at = (records: readonly AuditRecord[], seq: number): AuditRecord => {
  const record = records.find((r) => r.seq === seq);
  if (!record) throw new Error(`No record ${seq}`);
  return record;
};

/** The breaches' positions and kinds; two at one position are compared in kind order. */
const kinds = (breaches: readonly Breach[]) =>
  breaches
    .map(({ seq, kind }) => ({ seq, kind }))
    .sort((a, b) => a.seq - b.seq || a.kind.localeCompare(b.kind));

describe('chain', () => {
  it("hashes the record's canonical form and keeps the whole record's for the relay, byte for byte", () => {
    const exposed: AuditEntry = {
      ...entry(1),
      exposures: [{ citizenId: '001089012345', as: 'subject', fields: ['subject.id'], mask: 'clear' }],
      answerDigest: 'a'.repeat(64),
      traceId: undefined as unknown as null,
    };
    for (const e of [entry(1), exposed]) {
      const record = chain(e, 7, GENESIS_HASH, new Date(START));
      expect(record.hash).toBe(recordHash(record));
      expect(recordJson(record)).toBe(canonicalJson(record));
      // A record read back from the store, not chained by this process, is written out afresh.
      expect(recordJson({ ...record })).toBe(canonicalJson(record));
    }
  });
});

describe('verifyChain', () => {
  const intact = chainOf(10);
  const head = at(intact, 10);

  it('finds an intact chain whole, up to its seal', async () => {
    const report = await verifyChain(stored(intact), [sealOf(at(intact, 4)), sealOf(head)], publicKeys, {
      seq: 10,
      hash: head.hash,
    });
    expect(report).toEqual({ ok: true, fromSeq: 1, checked: 10, lastSeq: 10, sealedSeq: 10, breaches: [] });
  });

  describe('from a seal an earlier walk verified', () => {
    const four = at(intact, 4);
    const from = { seq: 4, hash: four.hash };
    const since = (records: readonly AuditRecord[]) => stored(records.filter((r) => r.seq >= 4));

    it('reads from the seal on and finds the rest whole', async () => {
      const report = await verifyChain(
        since(intact),
        [sealOf(four), sealOf(head)],
        publicKeys,
        undefined,
        from,
      );
      expect(report).toEqual({ ok: true, fromSeq: 4, checked: 7, lastSeq: 10, sealedSeq: 10, breaches: [] });
    });

    it('names an edit after the seal, and a record relinked right after it at both its links', async () => {
      const edited = intact.map((r) => (r.seq === 8 ? { ...r, result: 'denied' as const } : r));
      expect(
        kinds((await verifyChain(since(edited), [sealOf(head)], publicKeys, undefined, from)).breaches),
      ).toEqual([{ seq: 8, kind: 'edited' }]);
      const relinked = intact.map((r) => (r.seq === 5 ? chain(entry(5), 5, GENESIS_HASH, r.at) : r));
      expect(kinds((await verifyChain(since(relinked), [], publicKeys, undefined, from)).breaches)).toEqual([
        { seq: 5, kind: 'reordered' },
        { seq: 6, kind: 'reordered' },
      ]);
    });

    it('names the sealed record replaced by one intact on its own', async () => {
      const forged = intact.map((r) =>
        r.seq === 4 ? chain({ ...entry(4), status: 403 }, 4, r.prevHash, r.at) : r,
      );
      const report = await verifyChain(since(forged), [], publicKeys, undefined, from);
      expect(kinds(report.breaches)).toEqual([
        { seq: 4, kind: 'edited' },
        { seq: 5, kind: 'reordered' },
      ]);
    });

    it('names a truncation that reaches below the seal', async () => {
      const report = await verifyChain(stored([]), [sealOf(head)], publicKeys, undefined, from);
      expect(report).toMatchObject({ ok: false, fromSeq: 4, checked: 0, lastSeq: 3 });
      expect(kinds(report.breaches)).toEqual([{ seq: 4, kind: 'truncated' }]);
    });
  });

  it('accepts a record whose fields the store returns in another order', async () => {
    const shuffled = intact.map(
      (r) => Object.fromEntries(Object.entries(r).reverse()) as unknown as AuditRecord,
    );
    expect((await verifyChain(stored(shuffled), [sealOf(head)], publicKeys)).breaches).toEqual([]);
  });

  it('verifies records written before exposures were recorded and after, and finds an edited exposure', async () => {
    // Records 1 to 3 as they were written before the field existed, then 4 and 5 with it.
    const records: AuditRecord[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 5; seq += 1) {
      const withExposures: AuditEntry =
        seq <= 3
          ? entry(seq)
          : {
              ...entry(seq),
              exposures: [
                { citizenId: '001089012345', as: 'subject', fields: ['subject.id'], mask: 'clear' },
              ],
              citizenIds: ['001089012345'],
            };
      const record = chain(withExposures, seq, prevHash, new Date(START + seq * 1_000));
      records.push(record);
      prevHash = record.hash;
    }
    expect(Object.hasOwn(at(records, 2), 'exposures')).toBe(false);
    expect((await verifyChain(stored(records), [sealOf(at(records, 5))], publicKeys)).breaches).toEqual([]);
    const hidden = records.map((r) => (r.seq === 4 ? { ...r, exposures: [], citizenIds: [] } : r));
    expect(kinds((await verifyChain(stored(hidden), [], publicKeys)).breaches)).toEqual([
      { seq: 4, kind: 'edited' },
    ]);
  });

  it('names an edited record at its position, and nothing else', async () => {
    const edited = intact.map((r) => (r.seq === 4 ? { ...r, result: 'denied' as const } : r));
    const report = await verifyChain(stored(edited), [sealOf(head)], publicKeys);
    expect(report.ok).toBe(false);
    expect(kinds(report.breaches)).toEqual([{ seq: 4, kind: 'edited' }]);
  });

  it('names a deleted record as missing at its position', async () => {
    const report = await verifyChain(stored(intact.filter((r) => r.seq !== 6)), [sealOf(head)], publicKeys);
    expect(kinds(report.breaches)).toEqual([{ seq: 6, kind: 'missing' }]);
    expect(report).toMatchObject({ checked: 9, lastSeq: 10 });
  });

  it('names two swapped records at both positions', async () => {
    const [four, five] = [at(intact, 4), at(intact, 5)];
    const swapped = intact.map((r) => {
      if (r.seq === 4) return { ...five, _id: four._id };
      if (r.seq === 5) return { ...four, _id: five._id };
      return r;
    });
    const report = await verifyChain(stored(swapped), [sealOf(head)], publicKeys);
    expect(kinds(report.breaches)).toEqual([
      { seq: 4, kind: 'reordered' },
      { seq: 5, kind: 'reordered' },
    ]);
  });

  it('names records cut from the end, against a seal of the old head', async () => {
    const report = await verifyChain(stored(intact.slice(0, 7)), [sealOf(head)], publicKeys);
    expect(report).toMatchObject({ ok: false, checked: 7, lastSeq: 7, sealedSeq: 10 });
    expect(kinds(report.breaches)).toEqual([{ seq: 8, kind: 'truncated' }]);
    expect(report.breaches[0]?.detail).toBe('Records 8 to 10 are gone from the end');
  });

  it('names records cut from the end, against the head the service holds', async () => {
    const report = await verifyChain(stored(intact), [sealOf(head)], publicKeys, {
      seq: 12,
      hash: 'f'.repeat(64),
    });
    expect(kinds(report.breaches)).toEqual([{ seq: 11, kind: 'truncated' }]);
  });

  it('names a seal whose signature was tampered with, and does not trust it', async () => {
    const seal = sealOf(head);
    const signature = Buffer.from(seal.signature, 'base64');
    signature[0] = (signature[0] ?? 0) ^ 0xff;
    const report = await verifyChain(
      stored(intact),
      [{ ...seal, signature: signature.toString('base64') }],
      publicKeys,
    );
    expect(kinds(report.breaches)).toEqual([{ seq: 10, kind: 'seal-invalid' }]);
    expect(report.sealedSeq).toBe(0);
  });

  it('names a seal signed by a key it does not trust', async () => {
    const stranger = generateKeyPairSync('ed25519');
    const forged = sealHead(
      { seq: 10, hash: head.hash, at: new Date(START) },
      stranger.privateKey,
      stranger.publicKey,
    );
    const report = await verifyChain(stored(intact), [forged], publicKeys);
    expect(report.breaches).toEqual([
      {
        seq: 10,
        kind: 'seal-invalid',
        detail: `The seal at 10 is signed by key ${keyIdOf(stranger.publicKey)}, which is not trusted`,
      },
    ]);
  });

  it('verifies the seals of every trusted key, the current and the rotated-out ones', async () => {
    const next = generateKeyPairSync('ed25519');
    const rotated = sealHead(
      { seq: 10, hash: head.hash, at: new Date(START) },
      next.privateKey,
      next.publicKey,
    );
    const both = new Map([...publicKeys, [keyIdOf(next.publicKey), next.publicKey]]);
    const report = await verifyChain(stored(intact), [sealOf(at(intact, 5)), rotated], both);
    expect(report).toMatchObject({ ok: true, sealedSeq: 10 });
    expect(rotated.keyId).not.toBe(sealOf(head).keyId);
  });

  describe('given a record rewritten with a fresh hash, by someone without the seal key', () => {
    const rewrite = (seq: number, records: readonly AuditRecord[]): AuditRecord => {
      const original = at(records, seq);
      const { _id, hash: _hash, seq: _seq, at: when, prevHash, ...rest } = original;
      return chain({ ...rest, result: 'denied', reason: 'NO_POLICY', status: 403 }, seq, prevHash, when);
    };

    it('names the next record, which no longer follows it, and the seal at its position', async () => {
      const forged = intact.map((r) => (r.seq === 4 ? rewrite(4, intact) : r));
      const report = await verifyChain(stored(forged), [sealOf(at(intact, 4)), sealOf(head)], publicKeys);
      expect(kinds(report.breaches)).toEqual([
        { seq: 4, kind: 'seal-invalid' },
        { seq: 5, kind: 'reordered' },
      ]);
    });

    it('names the seal of the head when every later record was chained again', async () => {
      const forged: AuditRecord[] = [...intact.slice(0, 3), rewrite(4, intact)];
      for (let seq = 5; seq <= 10; seq += 1) {
        const { _id, hash: _hash, seq: _seq, at: when, prevHash: _prev, ...rest } = at(intact, seq);
        forged.push(chain(rest, seq, at(forged, seq - 1).hash, when));
      }
      const report = await verifyChain(stored(forged), [sealOf(head)], publicKeys, {
        seq: 10,
        hash: head.hash,
      });
      expect(kinds(report.breaches)).toEqual([
        { seq: 10, kind: 'edited' },
        { seq: 10, kind: 'seal-invalid' },
      ]);
    });
  });
});

describe('compareWithCopy', () => {
  const intact = chainOf(10);
  const copy = { hashes: new Map(intact.map((r) => [r.seq, r.hash])), seals: [sealOf(at(intact, 10))] };
  const hashesOf = (records: readonly AuditRecord[]) => new Map(records.map((r) => [r.seq, r.hash]));
  /** The store's report, then the comparison with the copy, as `verify` runs them. */
  const verifyBoth = async (records: readonly AuditRecord[], seals: readonly AuditSeal[]) =>
    compareWithCopy(
      await verifyChain(stored(records), seals, publicKeys),
      hashesOf(records),
      seals,
      copy,
      publicKeys,
    );

  it('finds a store that holds what the copy holds whole', async () => {
    expect(await verifyBoth(intact, copy.seals)).toMatchObject({
      ok: true,
      copy: { compared: true, lastSeq: 10, sealedSeq: 10 },
    });
  });

  it('names the tail cut from the store together with its seal, which the store alone cannot see', async () => {
    const cut = intact.slice(0, 6);
    expect((await verifyChain(stored(cut), [], publicKeys)).ok).toBe(true);
    const report = await verifyBoth(cut, []);
    expect(report.breaches).toEqual([
      { seq: 7, kind: 'truncated', detail: 'Records 7 to 10 are in the Kafka copy but gone from the store' },
      { seq: 10, kind: 'seal-invalid', detail: 'The seal at 10 in the Kafka copy is not in the store' },
    ]);
  });

  it('names the first position of a chain rewritten from there to the end, seal and all', async () => {
    // Whoever holds the store and a key of their own can rebuild every link; the copy still differs.
    const forger = generateKeyPairSync('ed25519');
    let prevHash = at(intact, 4).hash;
    const rewritten = intact.map((r) => {
      if (r.seq < 5) return r;
      const again = chain({ ...r, result: 'denied' }, r.seq, prevHash, r.at);
      prevHash = again.hash;
      return again;
    });
    const theirs = sealHead(
      { seq: 10, hash: prevHash, at: new Date(START) },
      forger.privateKey,
      forger.publicKey,
    );
    expect(kinds((await verifyBoth(rewritten, [theirs])).breaches)).toEqual([
      { seq: 5, kind: 'edited' },
      { seq: 10, kind: 'seal-invalid' },
    ]);
  });
});

describe('canonicalJson', () => {
  it('gives the same text whatever the order of the keys, at every level', () => {
    const text = canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 'x' } });
    expect(text).toBe('{"a":{"c":"x","d":[2,{"e":0,"f":1}]},"b":1}');
    expect(canonicalJson({ a: { c: 'x', d: [2, { e: 0, f: 1 }] }, b: 1 })).toBe(text);
  });

  it('writes a date as its ISO string and leaves out undefined fields', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), gone: undefined })).toBe(
      '{"at":"2026-01-02T03:04:05.006Z"}',
    );
  });
});

describe('recordHash', () => {
  it('covers every field but the hash and the _id', () => {
    const [record] = chainOf(1);
    if (!record) throw new Error('No record');
    expect(recordHash({ ...record, _id: 'elsewhere', hash: 'anything' })).toBe(record.hash);
    expect(recordHash({ ...record, status: 500 })).not.toBe(record.hash);
    expect(recordHash({ ...record, prevHash: 'f'.repeat(64) })).not.toBe(record.hash);
  });
});

describe('auditId', () => {
  it('pads the sequence number to 15 digits, so that string order is number order', () => {
    expect(auditId(42)).toBe('000000000000042');
    expect(auditId(999_999_999_999_999)).toBe('999999999999999');
    expect(auditId(9) < auditId(10)).toBe(true);
  });
});

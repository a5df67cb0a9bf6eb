import { createIngest, type IngestPorts } from '../../../../connectors/runtime/ingest';
import { taxConnector } from '../../../../connectors/tax';
import { createLogger } from '../../../../services/platform';

const logger = createLogger({ name: 'ingest-test', level: 'silent' });
const NOW = Date.parse('2026-06-15T03:00:00Z');
const RECORD = {
  loaiBanGhi: 'DANG_KY_THUE',
  maBanGhi: 'DKT-B5-0',
  mst: '0100000003',
  loaiNnt: 'DOANH_NGHIEP',
  phienBan: 1,
  tenNguoiNopThue: 'CÔNG TY TNHH THƯƠNG MẠI DỊCH VỤ 0',
  coQuanThueQuanLy: '10119',
  ngayCapMst: '2023-01-02T08:00:00+07:00',
};

/** Ports that accept everything at once and keep what was quarantined. */
function ports(): IngestPorts & { quarantined: unknown[] } {
  const quarantined: unknown[] = [];
  return {
    quarantined,
    encode: () => Buffer.from([0]),
    publish: async (records) => records.map((_, i) => ({ topic: 'tax', partition: 0, offset: String(i) })),
    quarantine: async (entry) => quarantined.push(entry),
  };
}

describe('createIngest', () => {
  it('names every schema error of a refused record, not only the first the check stopped at', async () => {
    const p = ports();
    const ingest = createIngest({
      definition: taxConnector,
      topic: 'tax',
      ports: p,
      logger,
      clock: () => NOW,
    });
    const { mst: _mst, ...noTaxCode } = RECORD;
    const [good, bad] = await ingest.ingest([RECORD, { ...noTaxCode, phienBan: 'one', $where: 'x' }], {
      source: 'http',
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      receivedAt: NOW,
    });
    expect(good).toMatchObject({ status: 'accepted' });
    expect(bad).toMatchObject({ status: 'rejected' });
    const errors = bad?.status === 'rejected' ? bad.errors : [];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '$.mst', code: 'REQUIRED' }),
        expect.objectContaining({ path: '$.phienBan', code: 'WRONG_TYPE' }),
        expect.objectContaining({ path: '$.$where', code: 'UNKNOWN_FIELD' }),
      ]),
    );
    expect(p.quarantined).toHaveLength(1);
  });
});

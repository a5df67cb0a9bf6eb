import {
  eventIdFor,
  LIENTHONG_EVENT_NAMESPACE,
  UUID_NAMESPACE_URL,
  uuidV5,
} from '../../../../connectors/runtime/event-id';

describe('uuidV5', () => {
  it('gives the known vector for www.example.com in the DNS namespace', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('derives the lienthong namespace from its URL', () => {
    expect(uuidV5(UUID_NAMESPACE_URL, 'https://lienthong.hanoi.gov.vn/ns/event-id')).toBe(
      LIENTHONG_EVENT_NAMESPACE,
    );
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('lienthong', 'x')).toThrow(TypeError);
  });
});

describe('eventIdFor', () => {
  it('gives a version 5, RFC variant UUID', () => {
    expect(eventIdFor('HN-CUCTHUE', 'NO-2024-10-0109567894', 17)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('gives the same id when the same record version is sent again', () => {
    expect(eventIdFor('HN-PC08', 'DKX-2024-330145', 1)).toBe(eventIdFor('HN-PC08', 'DKX-2024-330145', 1));
  });

  it('gives another id for another version, record or agency', () => {
    const id = eventIdFor('HN-PC08', 'DKX-2024-330145', 1);
    expect(eventIdFor('HN-PC08', 'DKX-2024-330145', 2)).not.toBe(id);
    expect(eventIdFor('HN-PC08', 'DKX-2024-330146', 1)).not.toBe(id);
    expect(eventIdFor('HN-DKKD', 'DKX-2024-330145', 1)).not.toBe(id);
  });

  it('keeps the parts apart whatever a record id holds', () => {
    expect(eventIdFor('A', 'B-1', 2)).not.toBe(eventIdFor('A-B', '1', 2));
    expect(eventIdFor('A', 'x",1', 2)).not.toBe(eventIdFor('A', 'x', 12));
  });
});

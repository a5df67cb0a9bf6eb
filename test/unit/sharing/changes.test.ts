import { documentKey, documentOfKey } from '../../../services/sharing/changes';

describe('documentOfKey', () => {
  it('reads back the document a key of the internal topic names, an id with a slash included', () => {
    expect(documentOfKey(Buffer.from(documentKey('vehicles', '29A-123.45')))).toEqual({
      view: 'vehicles',
      id: '29A-123.45',
    });
    expect(documentOfKey(Buffer.from(documentKey('dossiers', 'HS/2026/1')))).toEqual({
      view: 'dossiers',
      id: 'HS/2026/1',
    });
  });

  it.each([
    ['no key', null],
    ['no view', Buffer.from('/001090000001')],
    ['a view that is not one', Buffer.from('__proto__/001090000001')],
    ['no slash', Buffer.from('citizens')],
  ])('names no document for %s', (_, key) => {
    expect(documentOfKey(key)).toBeNull();
  });
});

import { join, resolve } from 'node:path';
import { compiledEntry, entryArgs } from '../../../../deploy/local/service-entry';

const ROOT = resolve(__dirname, '../../../..');

describe('entryArgs', () => {
  it('runs the compiled build with plain node, options first', () => {
    expect(entryArgs('services/lookup/main.ts', 'compiled', ['--cpu-prof'])).toEqual([
      '--max-old-space-size=160',
      '--cpu-prof',
      join(ROOT, 'dist', 'services', 'lookup', 'main.js'),
    ]);
    expect(compiledEntry('connectors/tax/main.ts')).toBe(join(ROOT, 'dist/connectors/tax/main.js'));
  });

  it('runs the sources with tsx as a loader in the same process, not its CLI', () => {
    expect(entryArgs('services/registry/main.ts', 'source')).toEqual([
      '--max-old-space-size=160',
      '--import',
      'tsx',
      join(ROOT, 'services/registry/main.ts'),
    ]);
  });
});

import { createHash } from 'node:crypto';
import { type Db } from 'mongodb';
import { type ViewDoc } from './projection';

/**
 * A view document's content hash: SHA-256 of its canonical JSON (keys sorted, dates as ISO
 * strings), leaving out every `ingestedAt`, the one thing a replay of the same events does not
 * reproduce. Two stores fed the same events must hold documents with equal hashes.
 */
export function viewDocHash(doc: ViewDoc): string {
  return createHash('sha256').update(canonical(doc)).digest('hex');
}

function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([k]) => k !== 'ingestedAt')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Every document's hash in one collection, by id. Reads the whole collection, in `_id` order. */
export async function collectionHashes(db: Db, collection: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const doc of db.collection<ViewDoc>(collection).find({})) out.set(doc._id, viewDocHash(doc));
  return out;
}

/** How two collections' hashes differ: ids only on one side, and ids whose content differs. */
export interface HashComparison {
  left: number;
  right: number;
  onlyLeft: string[];
  onlyRight: string[];
  different: string[];
}

export function compareHashes(left: Map<string, string>, right: Map<string, string>): HashComparison {
  const onlyLeft: string[] = [];
  const different: string[] = [];
  for (const [id, hash] of left) {
    const other = right.get(id);
    if (other === undefined) onlyLeft.push(id);
    else if (other !== hash) different.push(id);
  }
  const onlyRight = [...right.keys()].filter((id) => !left.has(id));
  return { left: left.size, right: right.size, onlyLeft, onlyRight, different };
}

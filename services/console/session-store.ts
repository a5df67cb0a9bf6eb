import { randomBytes } from 'node:crypto';
import { type Clock } from '../platform/clock';

/**
 * Short-lived records kept on the server under unguessable ids (256 random bits), which only an
 * HttpOnly cookie carries: the console's sign-in sessions and the logins under way. Each record
 * expires at its own time; past `max` records the oldest go first, so a flood of started logins
 * cannot grow the memory without bound.
 */
export interface SessionStore<T> {
  /** Keeps `value` until `expiresAt` (epoch milliseconds); answers its id. */
  put(value: T, expiresAt: number): string;
  get(id: string | undefined): T | undefined;
  /** Gets and forgets: a login under way is finished at most once. */
  take(id: string | undefined): T | undefined;
  delete(id: string | undefined): void;
}

export function createSessionStore<T>(options: { clock: Clock; max: number }): SessionStore<T> {
  // A Map keeps insertion order, which is the order of age.
  const records = new Map<string, { value: T; expiresAt: number }>();
  const live = (id: string | undefined) => {
    if (id === undefined) return undefined;
    const record = records.get(id);
    if (record && record.expiresAt > options.clock()) return record;
    records.delete(id);
    return undefined;
  };
  return {
    put(value, expiresAt) {
      while (records.size >= options.max) {
        const oldest = records.keys().next().value as string;
        records.delete(oldest);
      }
      const id = randomBytes(32).toString('base64url');
      records.set(id, { value, expiresAt });
      return id;
    },
    get: (id) => live(id)?.value,
    take(id) {
      const record = live(id);
      if (id !== undefined) records.delete(id);
      return record?.value;
    },
    delete(id) {
      if (id !== undefined) records.delete(id);
    },
  };
}

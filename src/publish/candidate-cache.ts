/**
 * Each tenant's candidates (its endpoints, and the schemas of the event types it publishes) kept in
 * memory between publishes, so a publish is one statement instead of a read and a statement
 * (docs/performance.md, "Where a sequential publish's time goes": each round trip of the request
 * path costs ~0.3 ms here).
 *
 * Never trusted blindly. The read records two versions that triggers move on every write to what
 * publishing reads (migration 014: the tenant's endpoints version; the catalog's); the publish
 * statement checks both and writes nothing when either moved — a stale entry costs a second read
 * and statement, never a wrong fan-out, also when another Herald process made the change. A call an
 * entry would refuse (its data against a cached schema) is read again before it is refused.
 * Volatile endpoint state (the adaptive limit) is only a hint here, as it is for a fresh read.
 */
import type { Db } from '../db/db.ts';
import type { Candidates } from './candidates.ts';

/** Tenants kept per storage; the least recently published-to goes first. */
const MAX_TENANTS = 10_000;
/** Event types whose schemas one entry holds; a tenant publishing more is read each time for the rest. */
const MAX_TYPES = 256;

interface Entry {
  candidates: Candidates;
  /** The types the read covered (their schemas, or that they have none). */
  types: ReadonlySet<string>;
}

const caches = new WeakMap<Db, Map<string, Entry>>();

function cacheOf(db: Db): Map<string, Entry> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  return cache;
}

/** The tenant's kept candidates, if they cover `types`; the statement still checks them. */
export function cachedCandidates(db: Db, tenantId: string, types: Iterable<string>): Candidates | undefined {
  const cache = cacheOf(db);
  const entry = cache.get(tenantId);
  if (!entry) return undefined;
  for (const t of types) if (!entry.types.has(t)) return undefined;
  // Re-inserted: the Map's order is least recently used first.
  cache.delete(tenantId);
  cache.set(tenantId, entry);
  return entry.candidates;
}

/** The types a read for `types` should cover: those, plus what the tenant's entry covered. */
export function typesToRead(db: Db, tenantId: string, types: Iterable<string>): string[] {
  const all = new Set(types);
  for (const t of cacheOf(db).get(tenantId)?.types ?? []) {
    if (all.size >= MAX_TYPES) break;
    all.add(t);
  }
  return [...all];
}

/** Keeps a fresh read of `types` (a missing tenant is never kept). */
export function keepCandidates(db: Db, tenantId: string, types: readonly string[], candidates: Candidates) {
  if (!candidates.versions || types.length > MAX_TYPES) return;
  const cache = cacheOf(db);
  cache.delete(tenantId);
  cache.set(tenantId, { candidates, types: new Set(types) });
  if (cache.size > MAX_TENANTS) cache.delete(cache.keys().next().value as string);
}

/** The statement found the tenant's entry stale: read again next time. */
export function forgetCandidates(db: Db, tenantId: string): void {
  cacheOf(db).delete(tenantId);
}

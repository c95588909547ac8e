/**
 * Tenant keys as authentication last found them active, kept for {@link KEY_RECHECK_MS}: a key
 * presented again within that time is not read from the database again. Without it every request
 * made with a tenant key paid a round trip before its route ran (a single-event publish ~0.25 ms of
 * ~0.9, measured sequentially).
 *
 * What it costs (docs/design.md, "HTTP API conventions"; docs/decisions.md, "Tenant keys found
 * active are kept for a second"): a key revoked, or a tenant deleted, through this
 * process's API is forgotten at once; one revoked by another Herald process sharing the database
 * still works here for at most {@link KEY_RECHECK_MS}. Only keys found active are kept — a key
 * unknown here may have been created by another process a moment ago — and at most
 * {@link MAX_KEPT} of them; the memory holds digests, not keys.
 */

/** How long a key found active is taken as still active without reading it again. */
export const KEY_RECHECK_MS = 1_000;
/** Keys kept at most; when full, the cache starts again empty. */
export const MAX_KEPT = 10_000;

export interface ActiveKey {
  id: string;
  tenantId: string;
  keyHash: string;
}

export interface ActiveKeys {
  /** The key with SHA-256 hex `digest`, if it was found active less than KEY_RECHECK_MS ago. */
  get(digest: string, nowMs: number): ActiveKey | undefined;
  /** A mark to take before reading a key from the database, for {@link found}. */
  mark(): number;
  /**
   * `key` was read active from the database, by a read begun at `mark`: kept unless a key or a
   * tenant was forgotten since (the read may have seen it before the revocation committed).
   */
  found(key: ActiveKey, nowMs: number, mark: number): void;
  /** The key was revoked here. */
  forgetKey(keyId: string): void;
  /** The tenant was deleted here, and its keys with it. */
  forgetTenant(tenantId: string): void;
}

/** @example const keys = createActiveKeys(); const m = keys.mark(); keys.found({ id, tenantId, keyHash }, Date.now(), m) */
export function createActiveKeys(): ActiveKeys {
  const kept = new Map<string, { key: ActiveKey; foundAt: number }>();
  let forgotten = 0;
  const forget = (match: (k: ActiveKey) => boolean) => {
    forgotten++;
    for (const [digest, entry] of kept) if (match(entry.key)) kept.delete(digest);
  };
  return {
    get(digest, nowMs) {
      const entry = kept.get(digest);
      if (entry === undefined) return undefined;
      // A clock set back counts as expired too: read again rather than trust an entry from the future.
      if (nowMs - entry.foundAt >= KEY_RECHECK_MS || nowMs < entry.foundAt) {
        kept.delete(digest);
        return undefined;
      }
      return entry.key;
    },
    mark: () => forgotten,
    found(key, nowMs, mark) {
      if (mark !== forgotten) return;
      if (kept.size >= MAX_KEPT && !kept.has(key.keyHash)) kept.clear();
      kept.set(key.keyHash, { key, foundAt: nowMs });
    },
    forgetKey: (keyId) => forget((k) => k.id === keyId),
    forgetTenant: (tenantId) => forget((k) => k.tenantId === tenantId),
  };
}

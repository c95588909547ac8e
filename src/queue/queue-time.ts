/**
 * The queue's notion of "now". In production every due-ness and lease comparison uses the
 * database's `now()`, so N workers on N hosts agree on one clock and a row published with
 * `next_attempt_at = now()` is due at once whatever the hosts' clock skew. Tests inject a clock; its
 * time is then bound as a parameter instead, which keeps lease expiry and retries deterministic.
 */

/** The SQL expression for "now" given the parameter holding the optional injected time. */
export const nowSql = (param: string): string => `coalesce(${param}::timestamptz, now())`;

/** The bound value for {@link nowSql}: the injected time, or null for the database's clock. */
export const nowParam = (now: Date | null | undefined): Date | null => now ?? null;

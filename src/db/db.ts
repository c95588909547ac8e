/**
 * The storage interface. Two drivers implement it — embedded PGlite and PostgreSQL via `pg` — and
 * every query in Herald runs unchanged on both, so keep SQL to what PostgreSQL 15 supports.
 *
 * Rows come back with int8 as JS numbers, timestamptz as Date and json(b) parsed, on both drivers.
 */

/**
 * A fixed statement of the hot path that the PostgreSQL driver prepares once per connection, under
 * its name, instead of parsing and planning it on every call (~0.5 ms each for the publish
 * statement's CTEs); PGlite does the same through its wire protocol (src/db/pglite-prepared.ts).
 * The name must be unique to the text: make them once, as module constants, with {@link prepared}.
 *
 * PostgreSQL soon settles on one generic plan per prepared statement, made from the statistics of
 * the moment, and keeps it until the table is next analysed: made while `deliveries` was small, that
 * plan scans the whole table, and keeps doing so as it grows. So the queue's prepared statements say
 * how they are planned ({@link PlanMode}); both drivers run them under that session setting (the
 * PostgreSQL driver on connections of its own per mode, PGlite around each call on its one session).
 */
export interface PreparedSql {
  readonly name: string;
  readonly text: string;
  /** How it is planned; omitted = as PostgreSQL chooses (publishing's: their plans are safe). */
  readonly plan?: PlanMode;
  /** How its commit waits; omitted = until the WAL is on disk. See {@link CommitMode}. */
  readonly commit?: CommitMode;
}

/**
 * - `scan-free`: sequential scans disabled, so even a generic plan made on empty tables reaches rows
 *   by index or by address (recording: its generic plan is the fastest).
 * - `custom`: parsed once, planned on every call with the call's values (the claim: its generic
 *   plan cost ~4 × a fresh one on a backlog; docs/decisions.md).
 */
export type PlanMode = 'scan-free' | 'custom';

/** The session setting each plan mode runs under. */
export const PLAN_SETTINGS: Readonly<Record<PlanMode, { name: string; value: string }>> = {
  'scan-free': { name: 'enable_seqscan', value: 'off' },
  custom: { name: 'plan_cache_mode', value: 'force_custom_plan' },
};

/**
 * `async`: run alone (not in a transaction), the statement's commit returns before its WAL is on
 * disk (PostgreSQL's asynchronous commit, `synchronous_commit = off`). Only for statements whose loss
 * in a database crash Herald already recovers from as if its own process had died just before them:
 * recording outcomes (the handoff or the lease they would have ended is recovered, the delivery sent
 * again) and recovering handoffs (the handoff is back, and recovered again): docs/decisions.md,
 * "Outcomes are recorded with asynchronous commit". A later synchronous
 * commit flushes them with it, so what survives a crash is always a prefix. In a transaction the
 * caller's commit decides; PGlite ignores it.
 */
export type CommitMode = 'async';

/** The session setting each commit mode runs under (PostgreSQL). */
export const COMMIT_SETTINGS: Readonly<Record<CommitMode, { name: string; value: string }>> = {
  async: { name: 'synchronous_commit', value: 'off' },
};

/** @example const RECORD_SQL = prepared('herald_record_attempts', `WITH …`, { plan: 'scan-free' }) */
export function prepared(
  name: string,
  text: string,
  opts: { plan?: PlanMode; commit?: CommitMode } = {},
): PreparedSql {
  return {
    name,
    text,
    ...(opts.plan ? { plan: opts.plan } : {}),
    ...(opts.commit ? { commit: opts.commit } : {}),
  };
}

export type Sql = string | PreparedSql;

/** The text of a statement, prepared or not. */
export function sqlText(sql: Sql): string {
  return typeof sql === 'string' ? sql : sql.text;
}

/** Anything that runs a parameterised statement: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with bound parameters ($1, $2, …) and returns its rows. */
  query<T = Record<string, unknown>>(sql: Sql, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Never hold a transaction across an HTTP call: PGlite has a single connection.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on `channel`; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Runs `fn` with the first row of a query, or undefined. */
export async function one<T>(q: Queryable, sql: Sql, params?: readonly unknown[]): Promise<T | undefined> {
  const rows = await q.query<T>(sql, params);
  return rows[0];
}

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
 * plan scans the whole table, and keeps doing so as it grows. So a statement of the queue that is
 * prepared (recording) is also `scanFree`: both drivers plan it with sequential scans disabled, so
 * its generic plan reaches rows by index or by address whatever the tables' sizes (the PostgreSQL
 * driver runs such statements on connections of their own). Without a prepared name a statement is
 * parsed and planned on every call (the claim: its generic plan was slower, docs/decisions.md).
 */
export interface PreparedSql {
  readonly name: string;
  readonly text: string;
  /** Planned with sequential scans disabled (see above). */
  readonly scanFree?: boolean;
}

/** @example const RECORD_SQL = prepared('herald_record_attempts', `WITH …`, { scanFree: true }) */
export function prepared(name: string, text: string, opts: { scanFree?: boolean } = {}): PreparedSql {
  return opts.scanFree ? { name, text, scanFree: true } : { name, text };
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

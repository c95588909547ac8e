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
 * Only for statements whose plan does not depend on how big the traffic tables are (publishing: it
 * inserts, and reads endpoints by tenant). PostgreSQL soon settles on one generic plan per prepared
 * statement and keeps it until the table is next analysed; made while `deliveries` was small, that
 * plan scans the whole table, and keeps doing so as it grows. Claiming, recording and releasing are
 * therefore planned on every call (see claim-deliveries.ts).
 */
export interface PreparedSql {
  readonly name: string;
  readonly text: string;
}

/** @example const CLAIM_SQL = prepared('herald_claim', `WITH …`) */
export function prepared(name: string, text: string): PreparedSql {
  return { name, text };
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

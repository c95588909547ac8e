/**
 * PostgreSQL driver over `pg`: a pool for queries and transactions, one dedicated client for LISTEN
 * that reconnects with backoff. Callers stay correct without notifications (they also poll), so a
 * lost LISTEN connection only costs latency.
 */
import pg from 'pg';
import { fromDatabase, isDatabaseUnavailable } from './database-unavailable.ts';
import {
  COMMIT_SETTINGS,
  type CommitMode,
  type Db,
  PLAN_SETTINGS,
  type PlanMode,
  type Queryable,
  type Sql,
} from './db.ts';

const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // int8 → number: counts and sequence numbers stay far below 2^53.
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresOptions {
  url: string;
  /** Schema to put first on the search path (tests use one per file). */
  schema?: string;
  poolSize?: number;
  onError?: (err: Error) => void;
}

/** A prepared statement goes by its name: `pg` parses it once per connection, then only binds. */
function config(sql: Sql, params: readonly unknown[] | undefined): pg.QueryConfig {
  const values = params as unknown[] | undefined;
  if (typeof sql === 'string') return { text: sql, ...(values ? { values } : {}) };
  return { name: sql.name, text: sql.text, ...(values ? { values } : {}) };
}

/**
 * Session settings added to those the URL's `options` parameter and `options` already carry (the
 * driver lets the URL's parameter replace an `options` given beside it, so all go in the URL).
 */
function withSessionOptions(
  url: string,
  given: string | undefined,
  extra: string,
): { connectionString: string; options?: undefined } {
  const parsed = new URL(url);
  const all = [parsed.searchParams.get('options'), given, extra].filter(Boolean).join(' ');
  parsed.searchParams.set('options', all);
  return { connectionString: parsed.toString(), options: undefined };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const poolSize = options.poolSize ?? 10;
  const pool = new pg.Pool({ ...clientConfig, max: poolSize, connectionTimeoutMillis: 10_000 });
  const onError = options.onError ?? (() => {});
  pool.on('error', onError);
  // Connections of their own for the queue's statements of each plan and commit mode (src/db/db.ts),
  // their settings made for the whole session. Pools open connections as needed, and are made so.
  const modePools = new Map<string, pg.Pool>();
  const modePool = (plan: PlanMode | undefined, commit: CommitMode | undefined): pg.Pool => {
    const key = `${plan ?? ''}/${commit ?? ''}`;
    let found = modePools.get(key);
    if (!found) {
      const settings = [plan && PLAN_SETTINGS[plan], commit && COMMIT_SETTINGS[commit]]
        .filter((s) => s !== undefined)
        .map(({ name, value }) => `-c ${name}=${value}`);
      found = new pg.Pool({
        ...clientConfig,
        ...withSessionOptions(options.url, clientConfig.options, settings.join(' ')),
        max: Math.max(2, Math.ceil(poolSize / 2)),
        connectionTimeoutMillis: 10_000,
      });
      found.on('error', onError);
      modePools.set(key, found);
    }
    return found;
  };
  const poolFor = (sql: Sql) =>
    typeof sql === 'string' || (!sql.plan && !sql.commit) ? pool : modePool(sql.plan, sql.commit);
  const endAll = () => Promise.all([pool.end(), ...[...modePools.values()].map((p) => p.end())]);
  // Fail fast on a wrong URL instead of on the first request.
  const probe = await pool.connect().catch(async (err: unknown) => {
    await endAll().catch(() => {});
    throw fromDatabase(err);
  });
  probe.release();

  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listenClient: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let backoffMs = 100;

  async function connectListener(): Promise<void> {
    const client = new pg.Client(clientConfig);
    client.on('notification', (msg) => {
      for (const fn of listeners.get(msg.channel) ?? []) fn(msg.payload ?? '');
    });
    client.on('error', (err) => {
      onError(err);
      if (listenClient === client) listenClient = undefined;
      void client.end().catch(() => {});
      scheduleReconnect();
    });
    await client.connect();
    for (const channel of listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    listenClient = client;
    backoffMs = 100;
  }

  function scheduleReconnect(): void {
    if (closed || listeners.size === 0) return;
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, 5_000);
    setTimeout(() => {
      if (closed || listenClient) return;
      ensureListener().catch((err) => {
        onError(err as Error);
        scheduleReconnect();
      });
    }, delay).unref();
  }

  function ensureListener(): Promise<void> {
    if (listenClient) return Promise.resolve();
    connecting ??= connectListener().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /** The driver's own failures, marked so the API can tell them from a client's (database-unavailable.ts). */
  async function own<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw fromDatabase(err);
    }
  }

  const db: Db = {
    kind: 'postgres',
    async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
      const res = await own(poolFor(sql).query(config(sql, params)));
      return res.rows as T[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await own(pool.connect());
      // A checked-out client is no longer watched by the pool: a connection dropped while it is out
      // (a restart, a terminated backend) would be an 'error' event nobody handles, which ends the
      // process. Keep the error, and have the pool throw the client away on release.
      let broken: Error | undefined;
      const onClientError = (err: Error) => {
        broken ??= err;
        onError(err);
      };
      client.on('error', onClientError);
      const modesSet = new Set<PlanMode>();
      const tx: Queryable = {
        async query<R>(sql: Sql, params?: readonly unknown[]): Promise<R[]> {
          if (typeof sql !== 'string' && sql.plan && !modesSet.has(sql.plan)) {
            // For the rest of this transaction only; the connection goes back as it came. (A commit
            // mode is not applied: the transaction's commit is its caller's.)
            const { name, value } = PLAN_SETTINGS[sql.plan];
            await own(client.query(`SET LOCAL ${name} = ${value}`));
            modesSet.add(sql.plan);
          }
          return (await own(client.query(config(sql, params)))).rows as R[];
        },
        async exec(sql: string): Promise<void> {
          await own(client.query(sql));
        },
      };
      try {
        await own(client.query('BEGIN'));
        const result = await fn(tx);
        await own(client.query('COMMIT'));
        return result;
      } catch (err) {
        if (isDatabaseUnavailable(err)) broken ??= err as Error;
        if (!broken) await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.off('error', onClientError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      let set = listeners.get(channel);
      const isNew = !set;
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(onNotify);
      try {
        await ensureListener();
        if (isNew && listenClient) await listenClient.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        onError(err as Error);
        scheduleReconnect();
      }
      return async () => {
        set.delete(onNotify);
        if (set.size === 0) {
          listeners.delete(channel);
          await listenClient?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
        }
      };
    },
    async exec(sql) {
      await own(pool.query(sql));
    },
    async close() {
      closed = true;
      await listenClient?.end().catch(() => {});
      await endAll();
    },
  };
  return db;
}

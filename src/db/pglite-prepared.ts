/**
 * Named prepared statements on PGlite. PGlite's `query()` parses, describes and plans its text on
 * every call; for publishing's two statements that is over half of a single-event publish (~0.7 ms
 * of ~1.2 for the candidates read), and PGlite runs everything — API, queue, database — on one
 * thread. So a {@link PreparedSql} is parsed once under its name, its parameter types described
 * once, and each call only binds and executes: the same extended-protocol exchange PGlite's own
 * `query()` makes (parse, describe, bind, describe portal, execute, sync), minus the first two.
 *
 * Results go through PGlite's own result parser and type parsers, so rows look exactly as
 * `query()` returns them. Only publishing's statements are prepared (src/db/db.ts says why).
 */
import { type PGlite, parse, protocol } from '@electric-sql/pglite';
import { PLAN_SETTINGS, type PreparedSql } from './db.ts';

const { serialize } = protocol;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Messages = Awaited<ReturnType<PGlite['execProtocol']>>['messages'];

export interface PglitePrepared {
  /**
   * Runs a prepared statement. `inTransaction`: the caller holds PGlite's transaction (a
   * `transaction()` callback), so only the query lock is taken here and the data directory is
   * synced when the transaction ends, as PGlite does for its own queries.
   */
  run<T>(sql: PreparedSql, params: readonly unknown[], inTransaction: boolean): Promise<T[]>;
}

export function createPglitePrepared(pglite: PGlite): PglitePrepared {
  /** Parameter type ids of each statement parsed so far, by name. */
  const statements = new Map<string, number[]>();

  async function exchange(message: Uint8Array): Promise<Messages> {
    return (await pglite.execProtocol(message, { syncToFs: false })).messages;
  }

  async function runExclusive<T>(sql: PreparedSql, params: readonly unknown[]): Promise<T[]> {
    // One session for everything: the plan mode's setting holds for this statement only
    // (src/db/db.ts), set and reset in the statement's own exchange. In a transaction that fails,
    // the SET is rolled back with it.
    const setting = sql.plan ? PLAN_SETTINGS[sql.plan] : undefined;
    let messages: Messages;
    try {
      let types = statements.get(sql.name);
      if (!types) {
        await exchange(serialize.parse({ name: sql.name, text: sql.text }));
        types = parse.parseDescribeStatementResults(
          await exchange(serialize.describe({ type: 'S', name: sql.name })),
        );
        statements.set(sql.name, types);
      }
      const values = params.map((value, i) => {
        if (value === null || value === undefined) return null;
        const serializer = pglite.serializers[types[i]!];
        return serializer ? serializer(value) : String(value);
      });
      // SET, bind, describe, execute, sync and RESET in one exchange: PGlite's backend runs every
      // message of the buffer, in order, before it answers, and each exchange is a pass through
      // PGlite's JavaScript protocol layer (~13 % of PGlite's end-to-end profile in all). After an
      // error the backend skips to the Sync and runs the RESET after it; the error is thrown once
      // all of it has run.
      messages = await exchange(
        concat([
          ...(setting ? [serialize.query(`SET ${setting.name} = ${setting.value}`)] : []),
          serialize.bind({ statement: sql.name, values }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
          ...(setting ? [serialize.query(`RESET ${setting.name}`)] : []),
        ]),
      );
    } catch (err) {
      // Parsing or describing failed (no Sync sent yet), or the batch did: a Sync more is harmless.
      await exchange(serialize.sync()).catch(() => {});
      if (setting) await exchange(serialize.query(`RESET ${setting.name}`)).catch(() => {});
      throw err;
    }
    // With a setting, the statement's messages are those between the SET's ReadyForQuery and its own.
    if (setting) {
      const first = messages.findIndex((m) => m.name === 'readyForQuery');
      const own = messages.findIndex((m, i) => i > first && m.name === 'readyForQuery');
      messages = messages.slice(first + 1, own + 1);
    }
    const [result] = parse.parseResults(messages, pglite.parsers);
    return (result?.rows ?? []) as T[];
  }

  return {
    run<T>(sql: PreparedSql, params: readonly unknown[], inTransaction: boolean): Promise<T[]> {
      if (inTransaction) return pglite.runExclusive(() => runExclusive<T>(sql, params));
      // Outside a transaction: wait for any transaction to end, as PGlite's own query() does.
      return pglite._runExclusiveTransaction(async () => {
        const rows = await pglite.runExclusive(() => runExclusive<T>(sql, params));
        await pglite.syncToFs();
        return rows;
      });
    },
  };
}

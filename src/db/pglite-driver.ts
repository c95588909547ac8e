/**
 * Embedded driver over PGlite (PostgreSQL in WASM). One connection: PGlite serialises queries and
 * holds its own mutex around a transaction, so concurrent callers queue rather than interleave.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Db, type Queryable, type Sql, sqlText } from './db.ts';
import { createPglitePrepared, type PglitePrepared } from './pglite-prepared.ts';

export interface PgliteOptions {
  /** A data directory on disk; omitted = in memory. */
  dataDir?: string;
  /** A tarball from `dumpDataDir()` to start from (tests clone one migrated template). */
  loadDataDir?: Blob;
}

function wrapTx(tx: Transaction, prepared: PglitePrepared): Queryable {
  return {
    async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
      if (typeof sql !== 'string') return prepared.run<T>(sql, params ?? [], true);
      return (await tx.query<T>(sqlText(sql), params as unknown[])).rows;
    },
    async exec(sql: string): Promise<void> {
      await tx.exec(sql);
    },
  };
}

export async function openPglite(options: PgliteOptions = {}): Promise<Db & { pglite: PGlite }> {
  const pglite = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    // Flush to the file system asynchronously: embedded mode is documented as not power-loss safe.
    relaxedDurability: true,
    // No full-page images in the WAL. They guard against pages torn by a power loss or an OS crash,
    // which PGlite does not survive anyway (it runs with fsync off, `-F`); a killed process leaves
    // whole pages, each written by one pwrite. After every checkpoint the first change to a page
    // wrote all 8 kB of it to the WAL again: ~5–11 % of a delivery's CPU end to end.
    startParams: [...PGlite.defaultStartParams, '-c', 'full_page_writes=off'],
  });
  const prepared = createPglitePrepared(pglite);
  return {
    kind: 'pglite',
    pglite,
    async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
      if (typeof sql !== 'string') return prepared.run<T>(sql, params ?? [], false);
      return (await pglite.query<T>(sqlText(sql), params as unknown[])).rows;
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) => fn(wrapTx(tx, prepared)));
    },
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    async exec(sql) {
      await pglite.exec(sql);
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

/**
 * Runs a test file against both storage modes. Embedded: a PGlite clone of a migrated template
 * (migrated once per machine and cached by the hash of the migrations), on its own thread as Herald
 * runs it. PostgreSQL: a fresh schema per test file in the machine's server (TEST_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test).
 *
 * Without a reachable PostgreSQL the PostgreSQL half is skipped with a clear message — unless
 * CI=true, where that is a failure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { listMigrations, migrate } from '../../src/db/migrate.ts';
import { openPgliteThread } from '../../src/db/pglite-thread-driver.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';

export type StorageKind = 'pglite' | 'postgres';

export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const CACHE_DIR = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'herald-test');

async function templateBlob(): Promise<Blob> {
  const hash = createHash('sha256');
  for (const m of listMigrations()) hash.update(m.name).update(m.sql);
  const file = join(CACHE_DIR, `pglite-template-${hash.digest('hex').slice(0, 16)}.tar.gz`);
  if (!existsSync(file)) {
    const db = await openPgliteThread();
    await migrate(db);
    const blob = await db.dumpDataDir();
    await db.close();
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
    renameSync(tmp, file);
  }
  return new Blob([readFileSync(file)]);
}

let postgresReachable: Promise<boolean> | undefined;
export function isPostgresReachable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  })();
  return postgresReachable;
}

export interface TestDb {
  db: Db;
  kind: StorageKind;
  /** For PostgreSQL: the schema this file owns; used to open more connections to the same data. */
  schema?: string;
  close(): Promise<void>;
}

/** A fresh, migrated database of the given kind. */
export async function freshDb(kind: StorageKind): Promise<TestDb> {
  if (kind === 'pglite') {
    // On a thread of its own, as `herald serve` opens it (src/server/open-storage.ts).
    const db = await openPgliteThread({ loadDataDir: await templateBlob() });
    return { db, kind, close: () => db.close() };
  }
  const t = await emptyDb(kind);
  await migrate(t.db);
  return t;
}

/** An empty database of the given kind, no migration applied (for migration tests). */
export async function emptyDb(kind: StorageKind): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openPgliteThread();
    return { db, kind, close: () => db.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 5 });
  return {
    db,
    kind,
    schema,
    async close() {
      // The schema goes even when closing the pool fails (a test that cut its connections).
      try {
        await db.close();
      } finally {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA ${schema} CASCADE`);
        await c.end();
      }
    },
  };
}

const reachable = await isPostgresReachable();
if (!reachable && process.env['CI'] === 'true') {
  throw new Error(`PostgreSQL is not reachable at ${TEST_DATABASE_URL}, and CI=true makes that a failure`);
}

/**
 * Declares `fn`'s tests once per storage mode, as `describe('<name> [pglite]')` and
 * `describe('<name> [postgres]')`.
 */
export function forEachStorage(name: string, fn: (kind: StorageKind) => void): void {
  describe(`${name} [pglite]`, () => fn('pglite'));
  describe(
    `${name} [postgres]`,
    { skip: reachable ? false : `PostgreSQL not reachable at ${TEST_DATABASE_URL}` },
    () => fn('postgres'),
  );
}

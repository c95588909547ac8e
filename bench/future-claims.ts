/**
 * Due-claiming with and without a million deliveries scheduled in the future (issue 3: "a million
 * future retries slow due-claiming by less than 10 %"). Two fresh stores, one holding the future
 * rows, measured in turns — alone, beside, beside, alone, … — after one warm-up round each, so a
 * slow minute of a shared machine falls on both sides; five rounds each, the slowdown taken pair by
 * pair (the two rounds run back to back) and the median of the five pairs given.
 *
 * A round: `n` deliveries due, the table vacuumed and checkpointed (every round starts from the same
 * state), then one claimer takes them in batches of 100, each batch ended right after it (as
 * recording would end it, untimed) so the leases in flight stay a batch's worth. What is compared
 * is the CPU the claims cost per delivery — on PostgreSQL its backend's (other processes' work does
 * not count), on PGlite this process's — with the rates beside it.
 */
import pg from 'pg';
import type { Db } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPglite } from '../src/db/pglite-driver.ts';
import { openPostgres } from '../src/db/postgres-driver.ts';
import { claimDeliveries } from '../src/queue/claim-deliveries.ts';
import { backendCpu } from './backend-cpu.ts';

/** `n` pending deliveries of the bench endpoint, of one event named `tag`, due in `dueIn`. */
export async function insertDueDeliveries(db: Db, tag: string, n: number, dueIn: string): Promise<void> {
  const [ep] = await db.query<{ id: string }>("SELECT id FROM endpoints WHERE tenant_id = 'bench' LIMIT 1");
  await db.query(
    `INSERT INTO events (tenant_id, id, type, data, batch_id) VALUES ('bench', $1, 'invoice.created', '{"n":1}', $1)`,
    [tag],
  );
  const [{ base } = { base: 0 }] = await db.query<{ base: number }>(
    'SELECT coalesce(max(sequence), 0) + 1 AS base FROM deliveries WHERE endpoint_id = $1',
    [ep!.id],
  );
  // Ids sort in insertion order, as Herald's do; sequences follow the endpoint's highest.
  await db.query(
    `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, next_attempt_at)
     SELECT 'dlv_' || $3 || '_' || lpad(g::text, 10, '0'), 'bench', $1, $3, ARRAY[$3], 'invoice.created', $4::int8 + g,
            now() + $5::interval
     FROM generate_series(1, $2::int) g`,
    [ep!.id, n, tag, base + 3_000_000_000, dueIn],
  );
  // What publishing does for the claim (migration 008): the endpoint is due from the rows' due time.
  await db.query(
    `UPDATE endpoints SET next_due_at = least(coalesce(next_due_at, 'infinity'), now() + $2::interval)
     WHERE id = $1`,
    [ep!.id, dueIn],
  );
}

/** `n` deliveries of the bench endpoint scheduled a day ahead (future retries); answers how many. */
export async function insertFutureDeliveries(db: Db, n: number): Promise<number> {
  const [ep] = await db.query<{ id: string }>("SELECT id FROM endpoints WHERE tenant_id = 'bench' LIMIT 1");
  await db.query(
    `INSERT INTO events (tenant_id, id, type, data, batch_id) VALUES ('bench', 'future', 'invoice.created', '{}', 'bat_future')`,
  );
  const [f] = await db.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, next_attempt_at)
       SELECT 'dlv_future_' || lpad(g::text, 10, '0'), 'bench', $1, 'future', '{future}', 'invoice.created',
              1000000000 + g, now() + interval '1 day' + g * interval '1 millisecond'
       FROM generate_series(1, $2::int) g RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    [ep!.id, n],
  );
  return f!.n;
}

interface ClaimStore {
  db: Db;
  /** PostgreSQL (a server with autovacuum workers) rather than PGlite. */
  postgres: boolean;
  /** A reader of the CPU the claimer's database work uses, taken right before a round. */
  cpu(): Promise<() => number>;
  close(): Promise<void>;
}

const processCpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function openClaimStore(mode: string, dbUrl: string, name: string): Promise<ClaimStore> {
  let store: ClaimStore;
  if (mode === 'pglite') {
    const db = await openPglite();
    store = { db, postgres: false, cpu: async () => processCpu, close: () => db.close() };
  } else {
    const schema = `bench_${process.pid}_${name}`;
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await admin.end();
    // One connection: its backend is the claimer whose CPU is read.
    const db = await openPostgres({ url: dbUrl, schema, poolSize: 1 });
    store = {
      db,
      postgres: true,
      cpu: () => backendCpu(db),
      async close() {
        await db.close();
        const c = new pg.Client({ connectionString: dbUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    };
  }
  await migrate(store.db);
  await store.db.query(`INSERT INTO tenants (id, name) VALUES ('bench', 'Bench')`);
  await store.db.query(
    // No adaptive limit (slow start would let a claim take 8): the claims take every due row.
    `INSERT INTO endpoints (id, tenant_id, url, secret_enc, concurrency_limit)
     VALUES ('ep_bench', 'bench', 'http://127.0.0.1:9/', 'x', NULL)`,
  );
  return store;
}

interface Round {
  perSecond: number;
  cpuMicrosPerDelivery: number;
}

/**
 * Waits (up to 60 s) until no autovacuum worker is running: one catching up on what the benchmark's
 * earlier steps left behind competes with the claimer for the two cores and their caches, and
 * can show as a 20–30 % "slowdown" when it falls on most rounds of one side.
 */
async function autovacuumQuiet(db: Db): Promise<void> {
  const until = performance.now() + 60_000;
  while (performance.now() < until) {
    const [row] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
    );
    if (row!.n === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function claimRound(store: ClaimStore, n: number, tag: string): Promise<Round> {
  const { db } = store;
  // Due in an hour, claimed with a clock two hours ahead; a lease of days, so that no earlier
  // round's rows fall due again and are claimed here.
  await insertDueDeliveries(db, tag, n, '1 hour');
  await db.exec('VACUUM (ANALYZE) deliveries');
  await db.exec('CHECKPOINT');
  if (store.postgres) await autovacuumQuiet(db);
  const opts = {
    workerId: 'bench-claimer',
    limit: 100,
    leaseMs: 10 * 86_400_000,
    defaultTotalTimeoutMs: 15_000,
    now: new Date(Date.now() + 2 * 3_600_000),
    // Batches of 100 from one endpoint: above its default cap of 64 in flight.
    maxInFlightPerEndpoint: 1_000,
    maxInFlightPerTenant: 1_000,
  };
  const cpu = await store.cpu();
  // Only the claims are timed: after each, its deliveries end at once (as recording would end
  // them, so the leases in flight stay a batch's worth, as under a working dispatcher), untimed.
  let spentCpu = 0;
  let spentMs = 0;
  let claimed = 0;
  for (;;) {
    const cpu0 = cpu();
    const t0 = performance.now();
    const { deliveries } = await claimDeliveries(db, opts);
    spentMs += performance.now() - t0;
    spentCpu += cpu() - cpu0;
    if (deliveries.length === 0) break;
    claimed += deliveries.length;
    await db.query(
      `UPDATE deliveries SET status = 'succeeded', locked_by = NULL, next_attempt_at = NULL, completed_at = now()
       WHERE tenant_id = 'bench' AND id = ANY($1::text[])`,
      [deliveries.map((d) => d.id)],
    );
  }
  return { perSecond: claimed / (spentMs / 1000), cpuMicrosPerDelivery: spentCpu / claimed };
}

/** Rounds measured per store, in turns, after the warm-up. */
const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

export async function measureFutureClaims(
  mode: string,
  dbUrl: string,
  /** Due deliveries claimed per round. */
  n: number,
  /** Future deliveries beside them in the second store. */
  future: number,
): Promise<Record<string, number>> {
  const alone = await openClaimStore(mode, dbUrl, 'claim_alone');
  const beside = await openClaimStore(mode, dbUrl, 'claim_beside');
  try {
    const futureDeliveries = await insertFutureDeliveries(beside.db, future);
    await claimRound(alone, n, 'warm');
    await claimRound(beside, n, 'warm');
    const rounds: Record<'alone' | 'beside', Round[]> = { alone: [], beside: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? (['alone', 'beside'] as const) : (['beside', 'alone'] as const);
      for (const which of order) {
        rounds[which].push(await claimRound(which === 'alone' ? alone : beside, n, `r${i}`));
      }
    }
    const cpuAlone = median(rounds.alone.map((r) => r.cpuMicrosPerDelivery));
    const cpuBeside = median(rounds.beside.map((r) => r.cpuMicrosPerDelivery));
    const rateAlone = median(rounds.alone.map((r) => r.perSecond));
    const rateBeside = median(rounds.beside.map((r) => r.perSecond));
    // The slowdown pair by pair (the two rounds of a pair run back to back, so they share the
    // machine's moment), then the median of the pairs: a drift between pairs cancels out.
    const pairs = rounds.alone.map((a, i) => ({ a, b: rounds.beside[i]! }));
    const cpuSlowdown = median(pairs.map(({ a, b }) => b.cpuMicrosPerDelivery / a.cpuMicrosPerDelivery - 1));
    const rateSlowdown = median(pairs.map(({ a, b }) => 1 - b.perSecond / a.perSecond));
    return {
      claimPerSecond: round1(rateAlone),
      claimCpuMicrosPerDelivery: round1(cpuAlone),
      futureDeliveries,
      claimWithFutureDeliveriesPerSecond: round1(rateBeside),
      claimWithFutureCpuMicrosPerDelivery: round1(cpuBeside),
      futureSlowdownPercent: round1(cpuSlowdown * 100),
      futureSlowdownWallClockPercent: round1(rateSlowdown * 100),
    };
  } finally {
    await alone.close();
    await beside.close();
  }
}

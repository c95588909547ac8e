/**
 * What an id's collation costs a delivery's writes: a table shaped like `deliveries` (its text keys
 * in four indexes) under "C", "C.utf8" (libc) and ICU en-US, each row inserted and then updated by
 * key, the three tables written in turns in one process so the machine's noise falls on all alike.
 * Prints µs per row for each. `node --import tsx bench/id-collation.ts` (TEST_DATABASE_URL).
 * docs/decisions.md, "Ids compare byte by byte".
 */
import pg from 'pg';

const url = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const COLLATIONS = { c: '"C"', libcUtf8: '"C.utf8"', icuEnUs: '"en-US-x-icu"' } as const;
const ROUNDS = 60;
const WARM_UP = 10;
const BATCH = 200;

const c = new pg.Client({ connectionString: url });
await c.connect();
const names = Object.keys(COLLATIONS) as (keyof typeof COLLATIONS)[];
try {
  for (const n of names) {
    const coll = COLLATIONS[n];
    await c.query(`DROP TABLE IF EXISTS bench_collation_${n}`);
    await c.query(`CREATE TABLE bench_collation_${n} (tenant_id text COLLATE ${coll}, id text COLLATE ${coll},
      endpoint_id text COLLATE ${coll}, event_id text COLLATE ${coll}, sequence int8, status text,
      next_attempt_at timestamptz, PRIMARY KEY (tenant_id, id), UNIQUE (endpoint_id, sequence))`);
    await c.query(`CREATE INDEX ON bench_collation_${n} (tenant_id, event_id)`);
    await c.query(
      `CREATE INDEX ON bench_collation_${n} (endpoint_id, next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
    );
  }
  const spent = Object.fromEntries(names.map((n) => [n, 0])) as Record<(typeof names)[number], number>;
  for (let round = 0; round < ROUNDS; round++) {
    const ids = Array.from(
      { length: BATCH },
      (_, i) => `dlv_01KBX${String(round).padStart(4, '0')}${String(i).padStart(12, '0')}`,
    );
    // Alternate the order, so no table is always first after a pause.
    for (const n of round % 2 ? names : [...names].reverse()) {
      const t0 = performance.now();
      await c.query(
        `INSERT INTO bench_collation_${n}
         SELECT 'tenant_01KBX', id, 'ep_01KBXXXXXXXXXXXXXXXXXXXX', 'evt_' || id, $2 + o, 'pending', now()
         FROM unnest($1::text[]) WITH ORDINALITY AS u(id, o)`,
        [ids, round * BATCH],
      );
      await c.query(
        `UPDATE bench_collation_${n} SET status = 'succeeded', next_attempt_at = NULL
         WHERE tenant_id = 'tenant_01KBX' AND id = ANY($1::text[])`,
        [ids],
      );
      if (round >= WARM_UP) spent[n] += performance.now() - t0;
    }
  }
  const perRow = (ms: number) => Math.round(((ms * 1000) / ((ROUNDS - WARM_UP) * BATCH)) * 10) / 10;
  console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, perRow(spent[n])]))));
} finally {
  for (const n of names) await c.query(`DROP TABLE IF EXISTS bench_collation_${n}`);
  await c.end();
}

/**
 * A model of the row work one delivery costs PostgreSQL, to weigh writing a delivery row once
 * (docs/performance.md, "Where the time goes"): `node --import tsx bench/row-work-model.ts`.
 *
 * (A) today's rows: the delivery inserted claimed when its event is published, updated when its
 * first attempt succeeds, the attempt inserted; (B) the delivery row written once, in its final
 * state, when the outcome is recorded — one journal row per publish statement standing in for the
 * rows not written yet (what crash recovery would rebuild them from), deleted with the record. The
 * event row is the same in both. SQL only (not Herald's statements: their JSON parameters and
 * checks cost the same either way), batches of 100 to one endpoint, in Herald's migrated tables in
 * a schema of their own; the CPU of every PostgreSQL process per delivery (so the vacuuming of the
 * dead row versions an update leaves counts as it comes), three rounds in turns after a warm-up.
 */
import pg from 'pg';
import { migrate } from '../src/db/migrate.ts';
import { openPostgres } from '../src/db/postgres-driver.ts';
import { postgresCpuMicros } from './backend-cpu.ts';
import { invoiceData } from './raw-post.ts';

const url = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `model_${process.pid}`;
const c = new pg.Client(url);
await c.connect();
await c.query(`CREATE SCHEMA ${schema}`);
try {
  const db = await openPostgres({ url, schema, poolSize: 1 });
  await migrate(db);
  await db.close();
  await c.query(`SET search_path = ${schema}`);
  await c.query(
    `CREATE TABLE IF NOT EXISTS handoff_journal (id text COLLATE "C" PRIMARY KEY, worker text, lease_until timestamptz, payload json)`,
  );
  await c.query(`INSERT INTO tenants (id, name) VALUES ('t','t') ON CONFLICT DO NOTHING`);
  await c.query(
    `INSERT INTO endpoints (id, tenant_id, url, secret_enc) VALUES ('ep1','t','http://x','s') ON CONFLICT DO NOTHING`,
  );
  // The bench's event data (~300 bytes), as bench/run.ts publishes it.
  const data = JSON.stringify(invoiceData(1));
  const reqH = JSON.stringify({
    'content-type': 'application/json',
    'user-agent': 'Herald/0.1',
    'webhook-id': 'msg_01ABCDEFGHJKMNPQRSTVWXYZ12',
    'webhook-timestamp': '1796622935',
    'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  });
  const resH = JSON.stringify({
    'content-type': 'text/plain',
    date: 'Mon, 07 Dec 2026 06:00:00 GMT',
    connection: 'keep-alive',
    'content-length': '2',
  });
  let serial = 0;
  const ids = (p: string, n: number, k: number) => Array.from({ length: n }, (_, i) => `${p}_${k}_${i}`);

  async function publish(k: number, journal: boolean) {
    const ev = ids('msg', 100, k);
    const sql = `WITH e AS (INSERT INTO events (tenant_id, id, type, data, batch_id)
        SELECT 't', x, 'invoice.created', $2::json, 'bat_' || $3 FROM unnest($1::text[]) x),
      s AS (UPDATE endpoints SET last_sequence = last_sequence + 100 WHERE id = 'ep1' RETURNING last_sequence - 100 AS base)
      ${
        journal
          ? `INSERT INTO handoff_journal SELECT 'j' || $3, 'w1', now() + interval '30 s', json_build_object('ids', $1::text[], 'base', s.base) FROM s`
          : `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status, attempt_count, locked_by, next_attempt_at)
        SELECT 'dlv_' || x, 't', 'ep1', x, ARRAY[x], 'invoice.created', s.base + o, 'pending', 1, 'w1', now() + interval '30 s'
        FROM s, unnest($1::text[]) WITH ORDINALITY AS u(x, o)`
      }`;
    await c.query(sql, [ev, data, String(k)]);
    return ev;
  }
  async function record(k: number, ev: string[], journal: boolean) {
    const attempts = `INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms, status_code, request_headers, response_headers, response_excerpt)
        SELECT 'atm_' || x, 'dlv_' || x, 't', 'ep1', 1, now(), 1, 200, $2::json, $3::json, 'ok' FROM unnest($1::text[]) x`;
    const sql = journal
      ? `WITH d AS (INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status, attempt_count, last_status_code, last_attempt_at, completed_at)
          SELECT 'dlv_' || x, 't', 'ep1', x, ARRAY[x], 'invoice.created', ${1_000_000_000 + ++serial * 1000} + o, 'succeeded', 1, 200, now(), now() FROM unnest($1::text[]) WITH ORDINALITY AS u(x, o)),
        j AS (DELETE FROM handoff_journal WHERE id = 'j' || $4)
        ${attempts}`
      : `WITH d AS (UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, locked_by = NULL, last_status_code = 200, last_attempt_at = now(), completed_at = now()
          WHERE tenant_id = 't' AND id = ANY ($4::text[]))
        ${attempts}`;
    await c.query(sql, journal ? [ev, reqH, resH, String(k)] : [ev, reqH, resH, ev.map((x) => `dlv_${x}`)]);
  }
  let batch = 0;
  async function run(journal: boolean, batches: number) {
    const cpu0 = postgresCpuMicros();
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) {
      const k = batch++;
      const ev = await publish(k, journal);
      await record(k, ev, journal);
    }
    return {
      cpu: (postgresCpuMicros() - cpu0) / (batches * 100),
      ms: ((performance.now() - t0) / (batches * 100)) * 1000,
    };
  }
  await run(false, 20);
  await run(true, 20);
  await c.query('ANALYZE deliveries');
  for (let r = 0; r < 3; r++) {
    const a = await run(false, 200);
    const b = await run(true, 200);
    console.log(
      `today ${a.cpu.toFixed(1)} µs PG (${a.ms.toFixed(1)} µs wall) | written once ${b.cpu.toFixed(1)} µs PG (${b.ms.toFixed(1)} µs wall)`,
    );
  }
} finally {
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}

/**
 * The database's share of a delivery, without HTTP: `n` events published in batches of 100, their
 * deliveries claimed as a dispatcher claims them (batches of up to 200 within an endpoint's limits)
 * and each batch's outcomes recorded before the next claim, through
 * Herald's own functions, in a schema of their own with no dispatcher running. For each step, the
 * CPU the PostgreSQL backend spent (one connection: autovacuum and other sessions do not count)
 * and the CPU this process spent, per delivery. These are the floor under the
 * end-to-end figure: whatever Herald's Node side costs, a delivery costs at least these database
 * steps plus an HTTP request (docs/performance.md, "The floor").
 */
import pg from 'pg';
import { newId } from '../src/core/ids.ts';
import type { Db } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPostgres } from '../src/db/postgres-driver.ts';
import { publishEvents } from '../src/publish/publish-events.ts';
import { claimDeliveries } from '../src/queue/claim-deliveries.ts';
import type { ClaimedDelivery } from '../src/queue/claimed-delivery.ts';
import { type AttemptRecord, recordOutcomes } from '../src/queue/record-outcomes.ts';
import { backendCpu } from './backend-cpu.ts';

export interface PhaseCpu {
  postgres: number;
  node: number;
}

/** What a successful attempt's record looks like when the standard profile sent it. */
export function success(d: ClaimedDelivery): AttemptRecord {
  return {
    // Handed over: the record writes its row (src/queue/handoff.ts).
    handoff: d.handoff,
    attemptId: newId('atm'),
    deliveryId: d.id,
    tenantId: d.tenantId,
    endpointId: d.endpointId,
    attemptNumber: d.attemptNumber,
    status: 'succeeded',
    retryInMs: null,
    startedAt: new Date(),
    durationMs: 1,
    statusCode: 200,
    errorKind: null,
    errorMessage: null,
    requestHeaders: {
      'user-agent': 'Herald-Webhooks/1.0',
      'content-type': 'application/json',
      'webhook-id': d.events[0]?.id ?? '',
      'webhook-timestamp': '1764670000',
      'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
      'herald-event-type': d.eventType,
      'herald-sequence': String(d.sequence),
      'herald-attempt': String(d.attemptNumber),
    },
    responseHeaders: { 'content-type': 'text/plain', date: new Date().toUTCString(), 'content-length': '2' },
    responseExcerpt: 'ok',
    endpointGone: false,
  };
}

export async function measureDatabasePhases(
  dbUrl: string,
  n: number,
): Promise<Record<'publish' | 'claim' | 'record', PhaseCpu>> {
  const schema = `bench_phases_${process.pid}`;
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  let db: Db | undefined;
  try {
    // One connection: its backend's CPU is the database's work (autovacuum and the rest do not count).
    db = await openPostgres({ url: dbUrl, schema, poolSize: 1 });
    await migrate(db);
    await db.query(`INSERT INTO tenants (id, name) VALUES ('phases', 'Phases')`);
    await db.query(
      // No adaptive limit (slow start would let a claim take 8): the claims below take every row.
      `INSERT INTO endpoints (id, tenant_id, url, secret_enc, concurrency_limit)
       VALUES ('ep_phases', 'phases', 'http://127.0.0.1:9/', 'x', NULL)`,
    );
    const q = db;
    const measure = async (fn: () => Promise<void>): Promise<PhaseCpu> => {
      const backend = await backendCpu(q);
      const pg0 = backend();
      const own0 = process.cpuUsage();
      await fn();
      const own = process.cpuUsage(own0);
      const round = (x: number) => Math.round(x * 10) / 10;
      return { postgres: round((backend() - pg0) / n), node: round((own.user + own.system) / n) };
    };
    const publish = await measure(async () => {
      for (let b = 0; b < n / 100; b++) {
        await publishEvents(
          q,
          'phases',
          Array.from({ length: 100 }, (_, i) => ({ type: 'invoice.created', data: { n: b * 100 + i } })),
        );
      }
    });
    // Claimed as a dispatcher claims (up to 200, its limits: 64 in flight and 8 limits' worth held
    // ahead) and each batch recorded before the next claim, so the leases out stay what a running
    // dispatcher has; the two steps are timed apart.
    const claim = { postgres: 0, node: 0 };
    const record = { postgres: 0, node: 0 };
    for (;;) {
      let claimed: ClaimedDelivery[] = [];
      const c = await measure(async () => {
        claimed = (
          await claimDeliveries(q, {
            workerId: 'phases',
            limit: 200,
            leaseMs: 600_000,
            defaultTotalTimeoutMs: 15_000,
            maxInFlightPerEndpoint: 64,
            claimAhead: 8,
          })
        ).deliveries;
      });
      claim.postgres += c.postgres;
      claim.node += c.node;
      if (claimed.length === 0) break;
      const r = await measure(async () => {
        await recordOutcomes(q, claimed.map(success), { workerId: 'phases' });
      });
      record.postgres += r.postgres;
      record.node += r.node;
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    for (const step of [claim, record]) {
      step.postgres = round(step.postgres);
      step.node = round(step.node);
    }
    return { publish, claim, record };
  } finally {
    await db?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

// Alone: `node --import tsx bench/database-phases.ts` (TEST_DATABASE_URL, BENCH_EVENTS, ROUNDS).
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const events = Number(process.env['BENCH_EVENTS'] ?? 20_000);
  for (let i = 0; i < Number(process.env['ROUNDS'] ?? 1); i++)
    console.log(JSON.stringify(await measureDatabasePhases(url, events)));
}

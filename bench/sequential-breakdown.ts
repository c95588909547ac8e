/**
 * Where a sequential single-event publish's time goes (issue 21's first target), on PostgreSQL:
 * `node --import tsx bench/sequential-breakdown.ts` prints JSON, each figure the p50 (and p90) of
 * 1,500 calls made one at a time after 200 of warm-up, all in one Herald (as `herald serve`, in
 * this process) with a tenant that has no endpoints, so no delivery work runs beside the calls:
 *
 * - `httpPublish`: `POST /v1/tenants/:t/events` with one `{type, data}`, as a client sees it;
 * - `httpHealthz`: `GET /healthz` over the same connection — the HTTP floor of this process;
 * - `publishEvents`: the same publish called as a function (no HTTP): with the tenant unchanged, its
 *   kept candidates and one statement through Herald's driver (src/publish/candidate-cache.ts);
 * - `candidatesRead`: the read a changed tenant's next publish makes (`readCandidates`);
 * - `publishStatementRaw`: the publish statement Herald sent, captured and replayed with fresh ids
 *   on a plain node-postgres client (prepared): the database's share and one round trip.
 *
 * - `interleaved`: `httpPublish` and `publishStatementRaw` again, 1,500 of each in alternation, so
 *   that both tails are measured in the same moments of this shared machine: where the call's p99
 *   comes from (the statement's own, its commit included, or Herald's process).
 *
 * httpPublish − httpHealthz − publishEvents is the route's own cost (auth, rate limit, body parse,
 * validation, answer); publishEvents − publishStatementRaw, the driver's and the planning's. Nothing
 * asserts on time. TEST_DATABASE_URL as for the tests; loopback only.
 */
import pg from 'pg';
import { Agent, request } from 'undici';
import type { Queryable, Sql } from '../src/db/db.ts';
import { readCandidates } from '../src/publish/candidates.ts';
import { publishEvents } from '../src/publish/publish-events.ts';
import { isPublishStatement, PUBLISH } from '../src/publish/publish-statements.ts';
import { round } from './isolation-figures.ts';
import { ADMIN_KEY, startFreshHerald } from './isolation-herald.ts';

const DB_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const WARMUP = 200;
const CALLS = 1_500;

type Figures = { p50Ms: number; p90Ms: number; p99Ms: number };

function figures(ms: number[]): Figures {
  ms.sort((a, b) => a - b);
  const at = (q: number) => round(ms[Math.floor(ms.length * q)]!, 3);
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99) };
}

async function timed(fn: (i: number) => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < WARMUP; i++) await fn(i);
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await fn(WARMUP + i);
    ms.push(performance.now() - t0);
  }
  return figures(ms);
}

/** `a` and `b` in alternation, CALLS of each: figures for each from the same moments. */
async function alternated(
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
): Promise<[Figures, Figures]> {
  const ms: [number[], number[]] = [[], []];
  for (let i = 0; i < CALLS; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const t0 = performance.now();
      await fn(i);
      ms[k]!.push(performance.now() - t0);
    }
  }
  return [figures(ms[0]), figures(ms[1])];
}

const h = await startFreshHerald(DB_URL);
const agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
const client = new pg.Client({ connectionString: DB_URL });
try {
  await h.api('POST', '/v1/tenants', { id: 'seq', name: 'seq' });
  const { db } = h.herald.ctx;
  // The publish statement as Herald sends it, captured from its first call.
  let captured: { text: string; params: readonly unknown[] } | undefined;
  const query = db.query.bind(db);
  db.query = (async (sql: Sql, params?: readonly unknown[]) => {
    if (!captured && isPublishStatement(sql) && typeof sql !== 'string')
      captured = { text: sql.text, params: params ?? [] };
    return query(sql, params);
  }) as Queryable['query'];

  const post = async (path: string, body?: unknown) => {
    const res = await request(`${h.herald.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${path} → ${res.statusCode}`);
  };
  const httpPublish = await timed((i) => post('/v1/tenants/seq/events', { type: 'x.y', data: { n: i } }));
  const httpHealthz = await timed(() => post('/healthz'));
  const publish = await timed((i) => publishEvents(db, 'seq', [{ type: 'x.y', data: { n: i } }]));
  const candidatesRead = await timed(() => readCandidates(db, 'seq', null, ['x.y']));

  if (!captured) throw new Error('the publish statement was not seen');
  const { text, params } = captured;
  await client.connect();
  const schema = (await query<{ s: string }>('SELECT current_schema() AS s'))[0]!.s;
  await client.query(`SET search_path = ${schema}`);
  // The events' parameter (src/publish/publish-statements.ts; a tenant without endpoints: the
  // statement of that shape): each replay gets ids of its own.
  const events = PUBLISH.none.params.indexOf('events');
  const replay = (i: number) =>
    params.map((v, k) => (k === events ? String(v).replace(/"id":"(msg_[^"]+)"/, `"id":"$1r${i}"`) : v));
  const raw = (i: number) => client.query({ name: 'replay', text, values: replay(i) as unknown[] });
  const publishStatementRaw = await timed(raw);
  const [httpAlternated, rawAlternated] = await alternated(
    (i) => post('/v1/tenants/seq/events', { type: 'x.y', data: { n: -i } }),
    (i) => raw(CALLS + WARMUP + i),
  );
  const interleaved = { httpPublish: httpAlternated, publishStatementRaw: rawAlternated };
  process.stdout.write(
    `${JSON.stringify({ httpPublish, httpHealthz, publishEvents: publish, candidatesRead, publishStatementRaw, interleaved }, null, 2)}\n`,
  );
} finally {
  await client.end().catch(() => {});
  await agent.close();
  await h.stop();
}

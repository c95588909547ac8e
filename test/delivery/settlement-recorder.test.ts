/**
 * The settlement recorder (src/delivery/settlement-recorder.ts) without a database: a fake `Db`
 * that records each statement's batch, so batching, ordering and retry after a failed write are
 * seen directly. (The statements themselves: test/queue/record-outcomes.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Db } from '../../src/db/db.ts';
import type { Settlement } from '../../src/delivery/deliver-one.ts';
import { silentLogger } from '../../src/delivery/logger.ts';
import { createSettlementRecorder, type FlushSummary } from '../../src/delivery/settlement-recorder.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import type { AttemptRecord } from '../../src/queue/record-outcomes.ts';
import { waitFor } from '../support/poll.ts';
import { attemptOf } from '../support/scheduling.ts';

const attempt = (id: string, over: Partial<AttemptRecord> = {}): Settlement => ({
  kind: 'attempt',
  fifo: false,
  record: attemptOf(
    { id, tenantId: 't', endpointId: 'ep', attemptNumber: 1 } as ClaimedDelivery,
    new Date(0),
    over,
  ),
});
const release = (id: string, delayMs: number): Settlement => ({
  kind: 'release',
  release: { tenantId: 't', deliveryId: id, attemptNumber: 1, delayMs },
});

/**
 * A Db whose statements record the delivery ids they carried (and the handoffs they finish, in
 * `finished`); the first `failures` calls throw.
 */
function fakeDb(failures = 0) {
  const writes: Array<{ statement: 'record' | 'release' | 'finish'; ids: string[] }> = [];
  const finished: Array<{ statement: 'record' | 'release' | 'finish'; handoffs: string[] }> = [];
  let left = failures;
  const db = {
    async query(sql: { name?: string } | string, params: unknown[] = []) {
      if (left > 0) {
        left--;
        throw Object.assign(new Error('connection terminated'), { code: '57P01' });
      }
      const name = typeof sql === 'string' ? sql : (sql.name ?? '');
      if (
        name === 'herald_record_attempts' ||
        name === 'herald_record_successes' ||
        name === 'herald_record_handed_over_successes'
      ) {
        const batch = JSON.parse(params[2] as string) as Array<{ delivery_id: string }>;
        writes.push({ statement: 'record', ids: batch.map((r) => r.delivery_id) });
        const handoffs = params[name === 'herald_record_attempts' ? 8 : 4] as string[];
        if (handoffs.length > 0) finished.push({ statement: 'record', handoffs });
      } else if (name.startsWith('DELETE FROM handoffs')) {
        finished.push({ statement: 'finish', handoffs: params[0] as string[] });
      } else {
        const batch = JSON.parse(params[2] as string) as Array<{ id: string }>;
        writes.push({ statement: 'release', ids: batch.map((r) => r.id) });
        const handoffs = params[3] as string[];
        if (handoffs.length > 0) finished.push({ statement: 'release', handoffs });
      }
      return [];
    },
  } as unknown as Db;
  return { db, writes, finished };
}

function recorder(
  db: Db,
  flushed: FlushSummary[],
  o: { maxItems?: number; delayMs?: number; promptDelayMs?: number } = {},
) {
  return createSettlementRecorder({
    db,
    workerId: 'w1',
    now: () => null,
    maxItems: o.maxItems ?? 500,
    delayMs: o.delayMs ?? 5,
    ...(o.promptDelayMs === undefined ? {} : { promptDelayMs: o.promptDelayMs }),
    logger: silentLogger,
    onFlushed: (s) => flushed.push(s),
  });
}

test('settlements that arrive together are written together: attempts in one statement, releases in another', async () => {
  const { db, writes } = fakeDb();
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed);
  r.add(attempt('d1'));
  r.add(release('d2', 5_000));
  r.add(attempt('d3', { status: 'pending', retryInMs: 2_000 }));
  await waitFor('one flush', () => flushed.length === 1);
  assert.deepEqual(writes, [
    { statement: 'record', ids: ['d1', 'd3'] },
    { statement: 'release', ids: ['d2'] },
  ]);
  assert.equal(flushed[0]!.soonestDueInMs, 2_000, 'the soonest a written delivery falls due');
  assert.equal(flushed[0]!.fifoFinished, false);
  assert.equal(r.buffered, 0);
});

test('a full batch goes at once; the rest follows in order, one write at a time', async () => {
  const { db, writes } = fakeDb();
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed, { maxItems: 2, delayMs: 60_000 });
  for (const id of ['a', 'b', 'c', 'd', 'e']) r.add(attempt(id));
  // Two full batches need no delay; the fifth waits for company (60 s) or a flush.
  await waitFor('two full batches', () => flushed.length === 2);
  assert.equal(r.buffered, 1);
  await r.flush();
  assert.deepEqual(
    writes.map((w) => w.ids),
    [['a', 'b'], ['c', 'd'], ['e']],
  );
});

test('a failed write keeps its settlements and writes them again after a back-off', async () => {
  const { db, writes } = fakeDb(1);
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed);
  r.add(attempt('x1', { fifo: true } as Partial<AttemptRecord>));
  await waitFor('written after a retry', () => flushed.length === 1, { timeoutMs: 5_000 });
  assert.deepEqual(writes, [{ statement: 'record', ids: ['x1'] }]);
});

test('flush gives up after maxFailures failed writes in a row, keeping what it could not write', async () => {
  const { db, writes } = fakeDb(10);
  const r = recorder(db, []);
  r.add(attempt('y1'));
  await r.flush(2);
  assert.equal(writes.length, 0);
  assert.equal(r.buffered, 1, 'kept: the leases will bring them back if this process dies');
});

test('a finished fifo delivery is reported, so its successor is claimed at once', async () => {
  const { db } = fakeDb();
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed);
  r.add({ ...attempt('f1'), fifo: true } as Settlement);
  await waitFor('flushed', () => flushed.length === 1);
  assert.equal(flushed[0]!.fifoFinished, true);
});

test('a handoff row is deleted by the write that settles its last delivery, never before', async () => {
  const { db, finished } = fakeDb();
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed);
  const handoff = (id: string) => ({
    handoffId: id,
    endpointId: 'ep',
    eventIds: [`evt_${id}`],
    eventType: 'a.b',
    sequence: 1,
    createdMs: 0,
  });
  const handed = (id: string, h: string): Settlement => attempt(id, { handoff: handoff(h) });
  const handedRelease = (id: string, h: string): Settlement => ({
    kind: 'release',
    release: { tenantId: 't', deliveryId: id, attemptNumber: 1, delayMs: 0, handoff: handoff(h) },
  });
  r.expect('h1', 3);
  r.expect('h2', 1);
  r.expect('h3', 2);
  r.add(handed('a', 'h1'));
  r.add(handed('b', 'h1'));
  await waitFor('first flush', () => flushed.length === 1);
  assert.deepEqual(finished, [], 'h1 has one delivery out still');
  // h1's last by a record, h2's only one by a release, h3 split between both statements.
  r.add(handed('c', 'h1'));
  r.add(handedRelease('d', 'h2'));
  r.add(handed('e', 'h3'));
  r.add(handedRelease('f', 'h3'));
  await waitFor('second flush', () => flushed.length === 2);
  assert.deepEqual(finished, [
    { statement: 'record', handoffs: ['h1'] },
    { statement: 'release', handoffs: ['h2'] },
    // After both statements are written: neither alone holds all of h3's rows.
    { statement: 'finish', handoffs: ['h3'] },
  ]);
});

test('a failed write settles none of its handoffs: the retry finishes them', async () => {
  const { db, finished } = fakeDb(1);
  const flushed: FlushSummary[] = [];
  const r = recorder(db, flushed);
  r.expect('h1', 1);
  r.add(
    attempt('a', {
      handoff: {
        handoffId: 'h1',
        endpointId: 'ep',
        eventIds: ['e'],
        eventType: 'a.b',
        sequence: 1,
        createdMs: 0,
      },
    }),
  );
  await waitFor('written after a retry', () => flushed.length === 1);
  assert.deepEqual(finished, [{ statement: 'record', handoffs: ['h1'] }]);
});

/** A settlement of a delivery handed over by publishing (handoff `h1`): it may wait for company. */
function handedOver(o: Settlement): Settlement {
  const handoff = {
    handoffId: 'h1',
    endpointId: 'ep',
    eventIds: ['e'],
    eventType: 't',
    sequence: 1,
    createdMs: 0,
  };
  return o.kind === 'attempt'
    ? { ...o, record: { ...o.record, handoff } }
    : { ...o, release: { ...o.release, handoff } };
}

for (const [what, prompt] of [
  ["a FIFO delivery's attempt", { ...handedOver(attempt('d3')), fifo: true } as Settlement],
  ["a claimed delivery's attempt", attempt('d3')],
  ["a claimed delivery's release", release('d3', 0)],
] as const) {
  test(`handed-over deliveries' outcomes wait the whole delay for company; ${what} brings the write forward`, async () => {
    const { db, writes } = fakeDb();
    const flushed: FlushSummary[] = [];
    // A delay no test run outlasts: only a prompt settlement can start the write.
    const r = recorder(db, flushed, { delayMs: 600_000, promptDelayMs: 1 });
    r.expect('h1', 10);
    r.add(handedOver(attempt('d1')));
    r.add(handedOver(release('d2', 0)));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 0);
    r.add(prompt);
    await waitFor('the prompt settlement written with the rest', () => writes.length === 2);
    const ids = (statement: string) => writes.find((w) => w.statement === statement)?.ids;
    assert.deepEqual(
      [ids('record'), ids('release')],
      prompt.kind === 'attempt' ? [['d1', 'd3'], ['d2']] : [['d1'], ['d2', 'd3']],
    );
    assert.equal(flushed.length, 1);
    // Written: the next handed-over outcome waits the whole delay again.
    r.add(handedOver(attempt('d4')));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 2);
    await r.flush();
    assert.deepEqual(writes.at(-1), { statement: 'record', ids: ['d4'] });
  });
}

test('a prompt settlement buffered while a write is out keeps the short delay for the next batch', async () => {
  let release1: () => void = () => {};
  let started = false;
  const { db, writes } = fakeDb();
  const slow = {
    ...db,
    async query(sql: unknown, params?: unknown[]) {
      if (!started) {
        started = true;
        await new Promise<void>((resolve) => {
          release1 = resolve;
        });
      }
      return (db.query as (s: unknown, p?: unknown[]) => Promise<unknown[]>)(sql, params);
    },
  } as unknown as Db;
  const r = recorder(slow, [], { delayMs: 600_000, promptDelayMs: 1 });
  r.add(attempt('d1'));
  await waitFor('the first write out', () => started);
  r.add(attempt('d2'));
  release1();
  await waitFor('both claimed attempts written', () => writes.length === 2);
  assert.deepEqual(
    writes.map((w) => w.ids),
    [['d1'], ['d2']],
  );
});

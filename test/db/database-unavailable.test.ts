/**
 * Which failures mean "the database is not there right now" (503 DATABASE_UNAVAILABLE with
 * Retry-After) rather than a fault (500) or the caller's bad input (400).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHeraldError } from '../../src/api/error-handler.ts';
import { fromDatabase, isDatabaseUnavailable } from '../../src/db/database-unavailable.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';

const pgError = (code: string, message = 'x') =>
  Object.assign(new Error(message), { code, severity: 'FATAL' });

test('restarts, failovers and lost connections are "unavailable"', () => {
  for (const err of [
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P02', 'terminating connection because of crash of another server process'),
    pgError('57P03', 'the database system is starting up'),
    pgError('08006', 'connection failure'),
    pgError('53300', 'sorry, too many clients already'),
    // Socket failures and pg's own messages, as the driver raises them (marked as its own).
    fromDatabase(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    fromDatabase(new Error('Connection terminated unexpectedly')),
    fromDatabase(new Error('Connection terminated due to connection timeout')),
    fromDatabase(new Error('timeout exceeded when trying to connect')),
    fromDatabase(
      new Error('wrapped', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ),
  ]) {
    assert.equal(isDatabaseUnavailable(err), true, String(err));
    assert.equal(toHeraldError(err).code, 'DATABASE_UNAVAILABLE', String(err));
    assert.equal(toHeraldError(err).status, 503);
  }
});

test('everything else is not: bugs stay 500, bad input stays 400', () => {
  assert.equal(isDatabaseUnavailable(pgError('23505', 'duplicate key')), false);
  assert.equal(isDatabaseUnavailable(pgError('42P01', 'relation does not exist')), false);
  assert.equal(isDatabaseUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isDatabaseUnavailable(undefined), false);
  assert.equal(isDatabaseUnavailable('Connection terminated'), false, 'a bare string is no error object');
  assert.equal(toHeraldError(pgError('42P01')).code, 'INTERNAL');
  assert.equal(toHeraldError(pgError('22021', 'invalid byte sequence')).code, 'VALIDATION_FAILED');
});

test("a client's dropped connection is not the database's: ECONNRESET from the request body (issue 16)", () => {
  // What Fastify passes on when a client drops its request mid-body: the socket's error, a 400.
  const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
  assert.equal(isDatabaseUnavailable(aborted), false);
  assert.notEqual(toHeraldError(aborted).code, 'DATABASE_UNAVAILABLE');
  assert.equal(toHeraldError(aborted).status, 400);
  assert.equal(
    isDatabaseUnavailable(new Error('Connection terminated unexpectedly')),
    false,
    'not from the driver',
  );
});

test('the PostgreSQL driver marks its own failures: nothing listening on the port is "unavailable"', async () => {
  // Port 9 on loopback (discard): nothing listens there, so connecting is refused.
  const db = await openPostgres({ url: 'postgres://postgres@127.0.0.1:9/none', poolSize: 1 }).catch(
    (err) => err,
  );
  const err = db instanceof Error ? db : await db.query('SELECT 1').catch((e: unknown) => e);
  if (!(db instanceof Error)) await db.close();
  assert.equal(isDatabaseUnavailable(err), true, String(err));
});

/**
 * Every API request is logged once, when answered (src/api/app.ts; docs/operations.md, "Logs"):
 * method, URL, status and time in one `request completed` record, keys redacted; nothing at `warn`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggerOptions } from '../../src/server/logger.ts';
import { makeTestApp } from '../support/app.ts';

/** A JSON-lines logger at `level` whose records are kept in `records`. */
function capture(level: 'info' | 'warn') {
  const records: Array<Record<string, unknown>> = [];
  const stream = { write: (line: string) => void records.push(JSON.parse(line)) };
  const { redact } = loggerOptions(level, 'json');
  return { records, logger: { level, redact, stream } };
}

// First in this file (each test file runs in a process of its own): Fastify warns once a process.
test('building the API emits no deprecation warning', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  process.on('warning', onWarning);
  const t = await makeTestApp('pglite', { logger: capture('info').logger });
  try {
    assert.equal((await t.request('GET', '/v1/tenants')).statusCode, 200);
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await t.close();
  }
});

test('one record per request, with method, URL, status and time; the key redacted', async () => {
  const { records, logger } = capture('info');
  const t = await makeTestApp('pglite', { logger });
  try {
    const res = await t.request('GET', '/v1/tenants/nope');
    assert.equal(res.statusCode, 404);
    const lines = records.filter((r) => r['reqId'] !== undefined);
    assert.equal(lines.length, 1, JSON.stringify(records));
    const [line] = lines;
    assert.equal(line!['msg'], 'request completed');
    assert.deepEqual(
      [(line!['req'] as { method: string }).method, (line!['req'] as { url: string }).url],
      ['GET', '/v1/tenants/nope'],
    );
    assert.equal((line!['res'] as { statusCode: number }).statusCode, 404);
    assert.equal(typeof line!['responseTime'], 'number');
    assert.ok(!JSON.stringify(records).includes(t.adminKey), 'the admin key never appears');
  } finally {
    await t.close();
  }
});

test('at warn, answered requests are not logged', async () => {
  const { records, logger } = capture('warn');
  const t = await makeTestApp('pglite', { logger });
  try {
    assert.equal((await t.request('GET', '/v1/tenants')).statusCode, 200);
    assert.deepEqual(records, []);
  } finally {
    await t.close();
  }
});

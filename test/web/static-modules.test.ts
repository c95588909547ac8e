import assert from 'node:assert/strict';
import { test } from 'node:test';

// The dashboard's own module, as the browser loads it (preact resolves from node_modules here); a
// plain-JS module, so typed by hand.
const chartModule = '../../src/web/static/components/chart.js';
const { ticks } = (await import(chartModule)) as { ticks: (max: number) => number[] };

test('chart gridlines are round numbers with the top at or above the largest bar (issue 18)', () => {
  assert.deepEqual(ticks(21), [0, 10, 20, 30]);
  assert.deepEqual(ticks(20), [0, 5, 10, 15, 20]);
  assert.deepEqual(ticks(1), [0, 1]);
  assert.deepEqual(ticks(0), [0, 1]);
  assert.deepEqual(ticks(3), [0, 1, 2, 3]);
  assert.deepEqual(ticks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(ticks(1234), [0, 500, 1000, 1500]);
  for (let max = 1; max < 100_000; max = Math.ceil(max * 1.37)) {
    const t = ticks(max);
    const step = t[1]! - t[0]!;
    assert.ok(t.at(-1)! >= max, `top ≥ ${max}`);
    assert.ok(t.length <= 6, `few lines for ${max}: ${t}`);
    assert.match(String(step), /^[125]0*$/, `round step for ${max}: ${step}`);
    assert.ok(t.every((v, i) => v === i * step));
  }
});

const formModule = '../../src/web/static/pages/test-event-form.js';
const { subscribes } = (await import(formModule)) as {
  subscribes: (patterns: string[] | null, type: string) => boolean;
};

test('the test-event form starts on a type the endpoint subscribes to, read as the engine reads patterns (issue 18)', async () => {
  const { matchesEventType } = await import('../../src/rules/event-type-match.ts');
  const patterns = [[], ['*'], ['invoice.*'], ['invoice.created', 'customer.*'], ['invoice'], null];
  const types = ['invoice.created', 'invoice', 'invoice.line.added', 'customer.deleted', 'order.shipped'];
  for (const p of patterns)
    for (const t of types)
      assert.equal(subscribes(p, t), matchesEventType(p, t), `${JSON.stringify(p)} ${t}`);
});

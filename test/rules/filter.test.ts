import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeraldError } from '../../src/core/errors.ts';
import { planDeliveries } from '../../src/rules/fan-out.ts';
import {
  type FilterSubject,
  filterCost,
  jsonEqual,
  MAX_FILTER_BYTES,
  matchesFilter,
  validateFilter,
} from '../../src/rules/filter.ts';

const event: FilterSubject = {
  type: 'invoice.paid',
  origin: 'billing',
  data: {
    amount: 150,
    currency: 'EUR',
    paidAt: '2024-05-01T10:00:00Z',
    customer: { id: 'c1', tier: 'gold', tags: ['a', 'b'] },
    lines: [{ sku: 'X1', qty: 2 }],
    note: null,
  },
};

/** Validates, then matches: every filter used here must also be accepted. */
function m(filter: unknown, subject: FilterSubject = event): boolean {
  validateFilter(filter);
  return matchesFilter(filter, subject);
}

describe('matchesFilter', () => {
  test('no filter and an empty filter match everything', () => {
    assert.equal(matchesFilter(null, event), true);
    assert.equal(matchesFilter(undefined, event), true);
    assert.equal(m({}), true);
  });

  test('literals: equality, deep for objects and arrays', () => {
    assert.equal(m({ type: 'invoice.paid' }), true);
    assert.equal(m({ type: 'invoice.created' }), false);
    assert.equal(m({ 'data.amount': 150 }), true);
    assert.equal(m({ 'data.amount': '150' }), false);
    assert.equal(m({ 'data.customer': { tags: ['a', 'b'], tier: 'gold', id: 'c1' } }), true);
    assert.equal(m({ 'data.customer': { id: 'c1' } }), false);
    assert.equal(m({ 'data.customer.tags': ['b', 'a'] }), false);
    assert.equal(m({ 'data.lines.0.sku': 'X1' }), true);
    assert.equal(m({ 'data.lines.1.sku': 'X1' }), false);
    assert.equal(m({ 'data.note': null }), true);
    assert.equal(m({ 'data.missing': null }), false);
    assert.equal(m({ data: event.data }), true);
  });

  test('several keys must all match', () => {
    assert.equal(m({ type: 'invoice.paid', 'data.currency': 'EUR' }), true);
    assert.equal(m({ type: 'invoice.paid', 'data.currency': 'USD' }), false);
  });

  test('origin is null when the event has none', () => {
    const noOrigin = { type: 'a', data: {} };
    assert.equal(m({ origin: null }, noOrigin), true);
    assert.equal(m({ origin: { $exists: true } }, noOrigin), true);
    assert.equal(m({ origin: 'billing' }), true);
    assert.equal(m({ origin: { $ne: 'billing' } }, noOrigin), true);
  });

  test('$eq and $ne', () => {
    assert.equal(m({ 'data.currency': { $eq: 'EUR' } }), true);
    assert.equal(m({ 'data.customer.tags': { $eq: ['a', 'b'] } }), true);
    assert.equal(m({ 'data.currency': { $ne: 'EUR' } }), false);
    assert.equal(m({ 'data.currency': { $ne: 'USD' } }), true);
    // a missing field is "not equal" to anything
    assert.equal(m({ 'data.missing': { $ne: 'x' } }), true);
    assert.equal(m({ 'data.missing': { $eq: null } }), false);
    // $eq compares operator-looking objects literally
    assert.equal(m({ 'data.x': { $eq: { $gt: 1 } } }, { type: 't', data: { x: { $gt: 1 } } }), true);
  });

  test('$in and $nin', () => {
    assert.equal(m({ 'data.currency': { $in: ['USD', 'EUR'] } }), true);
    assert.equal(m({ 'data.currency': { $in: ['USD'] } }), false);
    assert.equal(m({ 'data.currency': { $in: [] } }), false);
    assert.equal(m({ 'data.currency': { $nin: ['USD'] } }), true);
    assert.equal(m({ 'data.currency': { $nin: ['EUR'] } }), false);
    assert.equal(m({ 'data.missing': { $nin: ['EUR'] } }), true);
    assert.equal(m({ 'data.missing': { $in: [null] } }), false);
    assert.equal(m({ 'data.customer.tags': { $in: [['a', 'b']] } }), true);
  });

  test('$gt, $gte, $lt, $lte on numbers and strings; other types never compare', () => {
    assert.equal(m({ 'data.amount': { $gt: 100 } }), true);
    assert.equal(m({ 'data.amount': { $gt: 150 } }), false);
    assert.equal(m({ 'data.amount': { $gte: 150 } }), true);
    assert.equal(m({ 'data.amount': { $lt: 150 } }), false);
    assert.equal(m({ 'data.amount': { $lte: 150 } }), true);
    assert.equal(m({ 'data.amount': { $gt: 100, $lt: 200 } }), true);
    assert.equal(m({ 'data.amount': { $gt: 100, $lt: 120 } }), false);
    assert.equal(m({ 'data.paidAt': { $gte: '2024-01-01' } }), true);
    assert.equal(m({ 'data.paidAt': { $lt: '2024-01-01' } }), false);
    assert.equal(m({ 'data.amount': { $gt: '100' } }), false);
    assert.equal(m({ 'data.currency': { $lt: 5 } }), false);
    assert.equal(m({ 'data.missing': { $lt: 5 } }), false);
    assert.equal(m({ 'data.note': { $lt: 5 } }), false);
  });

  test('$exists', () => {
    assert.equal(m({ 'data.amount': { $exists: true } }), true);
    assert.equal(m({ 'data.note': { $exists: true } }), true);
    assert.equal(m({ 'data.missing': { $exists: true } }), false);
    assert.equal(m({ 'data.missing': { $exists: false } }), true);
    assert.equal(m({ 'data.amount.deeper': { $exists: false } }), true);
  });

  test('$and, $or, $not, nested', () => {
    assert.equal(m({ $and: [{ type: 'invoice.paid' }, { 'data.amount': { $gt: 100 } }] }), true);
    assert.equal(m({ $and: [{ type: 'invoice.paid' }, { 'data.amount': { $gt: 500 } }] }), false);
    assert.equal(m({ $or: [{ type: 'x' }, { 'data.currency': 'EUR' }] }), true);
    assert.equal(m({ $or: [{ type: 'x' }, { 'data.currency': 'USD' }] }), false);
    assert.equal(m({ $not: { type: 'x' } }), true);
    assert.equal(m({ $not: { type: 'invoice.paid' } }), false);
    assert.equal(
      m({
        type: 'invoice.paid',
        $or: [
          { 'data.customer.tier': 'gold', $not: { 'data.currency': 'USD' } },
          { 'data.amount': { $gte: 1000 } },
        ],
      }),
      true,
    );
  });

  test('paths only follow own properties', () => {
    assert.equal(m({ 'data.constructor': { $exists: true } }), false);
    assert.equal(m({ 'data.__proto__': { $exists: true } }), false);
    assert.equal(m({ 'data.customer.tags.length': 2 }), false);
    assert.equal(m({ 'data.lines.00.sku': 'X1' }), false);
  });

  test('data that is not an object', () => {
    assert.equal(m({ data: 5 }, { type: 't', data: 5 }), true);
    assert.equal(m({ 'data.a': { $exists: false } }, { type: 't', data: 'text' }), true);
  });
});

describe('validateFilter', () => {
  const refusals: Array<[string, unknown, string]> = [
    ['not an object', [], 'filter'],
    ['null', null, 'filter'],
    ['a string', 'type = x', 'filter'],
    ['unknown top-level operator', { $nor: [] }, 'filter.$nor'],
    ['unknown field operator', { 'data.a': { $regex: 'x' } }, 'filter.data.a.$regex'],
    ['logical operator as field operator', { 'data.a': { $and: [] } }, 'filter.data.a.$and'],
    ['mixed operators and fields', { 'data.a': { $gt: 1, b: 2 } }, 'filter.data.a.b'],
    ['$in not an array', { type: { $in: 'a' } }, 'filter.type.$in'],
    ['$nin not an array', { type: { $nin: { a: 1 } } }, 'filter.type.$nin'],
    ['$gt on an object', { 'data.a': { $gt: { x: 1 } } }, 'filter.data.a.$gt'],
    ['$lte on null', { 'data.a': { $lte: null } }, 'filter.data.a.$lte'],
    ['$exists not boolean', { 'data.a': { $exists: 1 } }, 'filter.data.a.$exists'],
    ['$and not an array', { $and: { type: 'a' } }, 'filter.$and'],
    ['$or empty', { $or: [] }, 'filter.$or'],
    ['$and with a non-object', { $and: [{ type: 'a' }, 5] }, 'filter.$and.1'],
    ['$not not an object', { $not: [{ type: 'a' }] }, 'filter.$not'],
    ['unknown root', { amount: 5 }, 'filter.amount'],
    ['field under type', { 'type.name': 'x' }, 'filter.type.name'],
    ['empty segment', { 'data..a': 1 }, 'filter.data..a'],
    ['empty key', { '': 1 }, 'filter.'],
  ];
  for (const [name, filter, path] of refusals) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => validateFilter(filter),
        (err: unknown) => {
          assert.ok(err instanceof HeraldError);
          assert.equal(err.code, 'INVALID_FILTER');
          assert.equal(err.status, 400);
          assert.equal(err.details[0]?.path, path);
          return true;
        },
      );
    });
  }

  test('refuses nesting deeper than 8', () => {
    let ok: Record<string, unknown> = { type: 'a' };
    for (let i = 0; i < 7; i++) ok = { $not: ok };
    validateFilter(ok); // depth 8
    assert.throws(() => validateFilter({ $and: [ok] }), /more than 8/);
  });

  test('refuses more than 8 KiB', () => {
    const big = { 'data.a': { $in: Array.from({ length: 2000 }, (_, i) => `v${i}`) } };
    assert.throws(
      () => validateFilter(big),
      (err: HeraldError) => err.code === 'INVALID_FILTER',
    );
    const fits = { 'data.a': 'x'.repeat(MAX_FILTER_BYTES - 20) };
    validateFilter(fits);
  });
});

test('jsonEqual', () => {
  assert.equal(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
  assert.equal(jsonEqual({ a: 1 }, { a: 1, b: undefined }), false);
  assert.equal(jsonEqual([1, 2], { 0: 1, 1: 2 }), false);
  assert.equal(jsonEqual(null, {}), false);
  assert.equal(jsonEqual(1, 1), true);
});

describe('the work a filter may cost (issue 16)', () => {
  test('filterCost: one per condition, one per $in/$nin value', () => {
    assert.equal(filterCost(null), 0);
    assert.equal(filterCost({ type: 'a', 'data.n': { $gt: 1, $lt: 9 } }), 3);
    assert.equal(filterCost({ $or: [{ 'data.s': { $in: ['a', 'b', 'c'] } }, { $not: { origin: 'x' } }] }), 4);
  });

  test('a filter of more than 256 comparisons is refused, however few its bytes', () => {
    const zeros = Array.from({ length: 300 }, () => 0);
    assert.throws(
      () => validateFilter({ 'data.x': { $in: zeros } }),
      (e: HeraldError) => e.code === 'INVALID_FILTER' && /300 comparisons per event/.test(e.message),
    );
    validateFilter({ 'data.x': { $in: zeros.slice(0, 256) } });
  });

  test('a call whose filter work would pass the bound is refused before any match runs past it', () => {
    const filter = { 'data.x': { $in: Array.from({ length: 200 }, (_, i) => i) } };
    const endpoints = Array.from({ length: 200 }, (_, i) => ({
      id: `ep_${i}`,
      event_types: ['*'],
      filter,
      ignore_origins: [],
      ordering: 'unordered',
      profile: 'standard',
    }));
    const events = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `msg_${i}`, type: 'a.b', data: { x: -1 } }));
    // 50 × 200 × 200 = 2,000,000: at the bound.
    assert.deepEqual(planDeliveries(events(50), endpoints), []);
    assert.throws(
      () => planDeliveries(events(51), endpoints),
      (e: HeraldError) => e.code === 'LIMIT_EXCEEDED' && /publish fewer events per call/.test(e.message),
    );
    // Endpoints whose types the events do not match cost nothing.
    const other = endpoints.map((e) => ({ ...e, event_types: ['z.*'] }));
    assert.deepEqual(planDeliveries(events(100), other), []);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileEventTypes, matchesEventType } from '../../src/rules/event-type-match.ts';

test('"*", no patterns and an empty list match every type', () => {
  for (const patterns of [['*'], [], null, undefined, ['invoice.created', '*']]) {
    assert.equal(matchesEventType(patterns, 'anything.at.all'), true, JSON.stringify(patterns));
  }
});

test('exact names are exact and case-sensitive', () => {
  const m = compileEventTypes(['invoice.created', 'CustomerCreated']);
  assert.equal(m('invoice.created'), true);
  assert.equal(m('CustomerCreated'), true);
  assert.equal(m('customercreated'), false);
  assert.equal(m('invoice.created.v2'), false);
  assert.equal(m('invoice.paid'), false);
});

test('a trailing * is a prefix wildcard', () => {
  const m = compileEventTypes(['invoice.*', 'shipment:*']);
  assert.equal(m('invoice.created'), true);
  assert.equal(m('invoice.line.added'), true);
  assert.equal(m('invoice'), false);
  assert.equal(m('invoices.created'), false);
  assert.equal(m('shipment:delivered'), true);
  assert.equal(m('customer.created'), false);
});

/**
 * W3C Trace Context as Herald reads, stores and forwards it (src/tracing/trace-context.ts), and the
 * URL spans show (src/tracing/spans.ts): pure functions, no SDK.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spanUrl } from '../../src/tracing/spans.ts';
import {
  cleanTracestate,
  formatTraceparent,
  parseTraceparent,
  readStoredTraceContext,
  storeTraceContext,
  traceContextFromHeaders,
} from '../../src/tracing/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('a valid traceparent parses; an invalid one is ignored, as the spec says', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 1,
  });
  assert.deepEqual(parseTraceparent(` 00-${TRACE}-${SPAN}-00 `), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 0,
  });
  // A future version may carry more fields: its first four are read.
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-03-whatever`), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 3,
  });
  for (const bad of [
    undefined,
    '',
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `ff-${TRACE}-${SPAN}-01`, // forbidden version
    `00-${'0'.repeat(32)}-${SPAN}-01`, // zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`, // zero span id
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // upper-case hex
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}`,
  ]) {
    assert.equal(parseTraceparent(bad), null, String(bad));
  }
  assert.equal(parseTraceparent([`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`]), null);
});

test('tracestate is passed on as given, unless empty, too long or not printable ASCII', () => {
  assert.equal(cleanTracestate(' vendor=abc,other=x y '), 'vendor=abc,other=x y');
  assert.equal(cleanTracestate(''), undefined);
  assert.equal(cleanTracestate(`a=${'x'.repeat(511)}`), undefined);
  assert.equal(cleanTracestate('a=\u00e9'), undefined);
  assert.equal(cleanTracestate(undefined), undefined);
});

test('the stored form round-trips, with and without tracestate, and is always version 00', () => {
  const plain = traceContextFromHeaders(`00-${TRACE}-${SPAN}-01`, undefined)!;
  assert.equal(storeTraceContext(plain), `00-${TRACE}-${SPAN}-01`);
  assert.deepEqual(readStoredTraceContext(storeTraceContext(plain)), plain);

  const withState = traceContextFromHeaders(`01-${TRACE}-${SPAN}-01-x`, 'v=1,w=2')!;
  const stored = storeTraceContext(withState);
  assert.equal(stored, `00-${TRACE}-${SPAN}-01 v=1,w=2`);
  assert.deepEqual(readStoredTraceContext(stored), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 1,
    traceState: 'v=1,w=2',
  });

  assert.equal(traceContextFromHeaders('garbage', 'v=1'), null);
  assert.equal(readStoredTraceContext(null), null);
  assert.equal(readStoredTraceContext('garbage'), null);
  assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 }), `00-${TRACE}-${SPAN}-00`);
});

test('span URLs drop credentials and query values', () => {
  assert.deepEqual(spanUrl('https://user:pw@hooks.example.com/in?token=abc&x=1'), {
    full: 'https://hooks.example.com/in?token=REDACTED&x=REDACTED',
    address: 'hooks.example.com',
    port: 443,
  });
  assert.deepEqual(spanUrl('http://127.0.0.1:8123/hook'), {
    full: 'http://127.0.0.1:8123/hook',
    address: '127.0.0.1',
    port: 8123,
  });
});

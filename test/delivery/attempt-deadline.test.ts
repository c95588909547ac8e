/**
 * One deadline per attempt (deliverOne): an OAuth 2 token fetch runs inside the attempt's budget
 * and the request gets only what is left, so a slow token server plus a hanging receiver cannot
 * make an attempt take twice its budget. Loopback servers only; no database (deliverOne has none).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, test } from 'node:test';
import { Agent } from 'undici';
import { newId } from '../../src/core/ids.ts';
import { type DeliverContext, deliverOne, type Settlement } from '../../src/delivery/deliver-one.ts';
import { createRateLimiter } from '../../src/delivery/rate-limiter.ts';
import { newCancellation, send } from '../../src/delivery/sender.ts';
import { ALL_PROFILES } from '../../src/profiles/index.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import type { AttemptRecord } from '../../src/queue/record-outcomes.ts';
import {
  manualClock,
  newSecret,
  type Receiver,
  type ReceiverHandler,
  startReceiver,
  testSecretBox,
} from '../support/delivery-fixtures.ts';

const agent = new Agent({ connect: { timeout: 1000 } });
const open: Receiver[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});
after(() => agent.close());

const ctx: DeliverContext = {
  secretBox: testSecretBox,
  clock: manualClock(),
  random: () => 0.5,
  limiter: createRateLimiter(),
  profiles: new Map(ALL_PROFILES.map((p) => [p.name, p])),
  dispatcherFor: () => agent,
  send: ({ connectTimeoutMs: _, ...r }) => send({ ...r, dispatcher: agent }),
  defaultRetrySchedule: [5],
  defaultTotalTimeoutMs: 15_000,
  maxExcerptBytes: 1024,
  userAgent: 'test',
};

async function server(handler: ReceiverHandler): Promise<Receiver> {
  const r = await startReceiver(handler);
  open.push(r);
  return r;
}

/** A receiver that takes the request and never answers. */
const hangs: ReceiverHandler = () => {};

/** A token server that answers a token after `delayMs`. */
const tokenServer = (delayMs: number) =>
  server((_req, res) => {
    setTimeout(
      () => res.end(JSON.stringify({ access_token: `tok-${randomUUID()}`, expires_in: 600 })),
      delayMs,
    );
  });

function claimed(url: string, e: { totalTimeoutMs: number; tokenUrl?: string; endpointId?: string }) {
  const auth = e.tokenUrl && { type: 'oauth2', tokenUrl: e.tokenUrl, clientId: 'c', clientSecret: 's' };
  const endpointId = e.endpointId ?? newId('ep');
  const d: ClaimedDelivery = {
    id: newId('dlv'),
    tenantId: 'ten_1',
    endpointId,
    eventType: 'invoice.created',
    sequence: 1,
    fifo: false,
    attemptNumber: 1,
    endpoint: {
      id: endpointId,
      url,
      secretEnc: testSecretBox.seal(newSecret()),
      previousSecretEnc: null,
      previousSecretUntil: null,
      headers: {},
      profile: 'standard',
      profileOptions: {},
      authEnc: auth ? testSecretBox.seal(JSON.stringify(auth)) : null,
      retrySchedule: null,
      connectTimeoutMs: null,
      totalTimeoutMs: e.totalTimeoutMs,
      rateLimitPerSecond: null,
    },
    events: [
      {
        id: newId('msg'),
        type: 'invoice.created',
        data: { n: 1 },
        purged: false,
        occurredAt: null,
        createdAt: new Date(),
      },
    ],
  };
  return d;
}

function attempt(o: Settlement): AttemptRecord {
  assert.equal(o.kind, 'attempt');
  return (o as Extract<Settlement, { kind: 'attempt' }>).record;
}

/** The total timeout the request was given, read from the sender's message. */
function requestTimeoutOf(a: AttemptRecord): number {
  const m = /^no response within (\d+) ms$/.exec(a.errorMessage ?? '');
  assert.ok(m, `a request timeout: ${a.errorMessage}`);
  return Number(m[1]);
}

test('without a token fetch the request gets the whole budget', async () => {
  const receiver = await server(hangs);
  const a = attempt(await deliverOne(claimed(receiver.url, { totalTimeoutMs: 200 }), ctx, newCancellation()));
  assert.equal(a.errorKind, 'timeout');
  // All of it but the time rendering and signing took (well under a millisecond once warm).
  const given = requestTimeoutOf(a);
  assert.ok(given > 150 && given <= 200, `request timeout ${given} ms`);
  assert.equal(receiver.requests.length, 1);
});

test('a slow token fetch and a hanging receiver share one budget: the request gets what is left', async () => {
  const tokens = await tokenServer(300);
  const receiver = await server(hangs);
  const d = claimed(receiver.url, { totalTimeoutMs: 500, tokenUrl: tokens.url });
  const began = performance.now();
  const a = attempt(await deliverOne(d, ctx, newCancellation()));
  const tookMs = performance.now() - began;

  assert.equal(a.errorKind, 'timeout');
  assert.equal(a.sentNothing, undefined, 'a request went out: it speaks of the receiver');
  assert.equal(tokens.requests.length, 1);
  assert.equal(receiver.requests.length, 1, 'the request was sent, with the token');
  assert.match(String(receiver.requests[0]!.headers.authorization), /^Bearer tok-/);
  // What the sender was asked: the budget less the ≥ 300 ms the token took (not another 500 ms).
  const given = requestTimeoutOf(a);
  assert.ok(given > 0 && given <= 201, `request timeout ${given} ms`);
  // The attempt's recorded duration covers the token fetch too, and ends at the one deadline.
  assert.ok(a.durationMs >= 450 && a.durationMs < 500 + 400, `duration ${a.durationMs} ms`);
  assert.ok(tookMs < 500 + 400, `deliverOne took ${Math.round(tookMs)} ms (2 × budget = 1000)`);
});

test('a token fetch slower than the whole budget fails the attempt at the deadline; nothing is sent', async () => {
  const tokens = await tokenServer(2_000);
  const receiver = await server(hangs);
  const d = claimed(receiver.url, { totalTimeoutMs: 300, tokenUrl: tokens.url });
  const began = performance.now();
  const a = attempt(await deliverOne(d, ctx, newCancellation()));
  const tookMs = performance.now() - began;

  assert.equal(a.errorKind, 'oauth_token_error');
  assert.equal(a.sentNothing, true, 'no request went out: says nothing of the receiver');
  assert.match(a.errorMessage ?? '', /^token request failed \(timeout\): no response within \d+ ms$/);
  assert.equal(receiver.requests.length, 0);
  assert.equal(a.requestHeaders, null);
  assert.ok(a.durationMs >= 250 && a.durationMs < 300 + 400, `duration ${a.durationMs} ms`);
  assert.ok(tookMs < 300 + 400, `deliverOne took ${Math.round(tookMs)} ms`);
});

test('an attempt joining a token fetch already under way waits no longer than its own budget', async () => {
  const tokens = await tokenServer(600);
  const receiver = await server((_req, res) => res.end('ok'));
  const endpointId = newId('ep');
  const long = claimed(receiver.url, { totalTimeoutMs: 2_000, tokenUrl: tokens.url, endpointId });
  // The same endpoint and credentials (one cache key), its budget since lowered.
  const short = claimed(receiver.url, { totalTimeoutMs: 200, tokenUrl: tokens.url, endpointId });
  short.endpoint.authEnc = long.endpoint.authEnc;
  const first = deliverOne(long, ctx, newCancellation());
  const began = performance.now();
  const b = attempt(await deliverOne(short, ctx, newCancellation()));
  const tookMs = performance.now() - began;
  assert.equal(b.errorKind, 'oauth_token_error');
  assert.match(b.errorMessage ?? '', /\(timeout\)/);
  assert.ok(tookMs < 200 + 300, `the joiner took ${Math.round(tookMs)} ms`);

  const a = attempt(await first);
  assert.equal(a.statusCode, 200, 'the fetch it joined goes on for the attempt that started it');
  assert.equal(tokens.requests.length, 1, 'one token fetch shared');
  assert.equal(receiver.requests.length, 1);
});

/**
 * The ceilings' requests. `signedPost` is what any webhook sender must do per delivery, without a
 * database: serialise a fresh ~300-byte event (`invoiceData`, the same data the bench publishes
 * through Herald), sign it Standard-Webhooks style (HMAC-SHA256 of `id.timestamp.body` with the
 * endpoint's `whsec_` key) and POST it with undici; the receiver (bench/receiver.ts) verifies
 * every signature. `rawPost` is the bare request of earlier figures: a small fixed body, no signing.
 * The ceiling loops (bench/run.ts) and the durable loop (bench/durable-loop.ts) send these, so they
 * differ only in what is done around the request.
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';

/** The agent the loops post through: a keep-alive pool of 64 connections. */
export const rawAgent = (): Agent => new Agent({ connections: 64, keepAliveTimeout: 30_000 });

export const rawBody = (): string =>
  JSON.stringify({ type: 'invoice.created', timestamp: new Date().toISOString(), data: { n: 1 } });

export async function rawPost(agent: Agent, url: string, body: string): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    body,
    dispatcher: agent,
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_x', 'webhook-signature': 'v1,x' },
  });
  await res.body.dump();
}

/** The bench endpoint's signing secret (fixed, so the receiver can verify without being told). */
export const BENCH_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
export const benchKey = (): Buffer => Buffer.from(BENCH_SECRET.slice('whsec_'.length), 'base64');

/** An event's data of about 300 bytes once in its webhook body. */
export function invoiceData(n: number): Record<string, unknown> {
  return {
    n,
    invoice: {
      id: `inv_${n}`,
      customer: 'cus_4QFJm2Xk8sT9',
      amount: 12_345 + (n % 1000),
      currency: 'eur',
      status: 'open',
      lines: [
        { sku: 'plan-pro', quantity: 1, amount: 9_900 },
        { sku: 'extra-seat', quantity: 3, amount: 2_445 },
      ],
      dueAt: '2027-01-05T00:00:00.000Z',
    },
  };
}

/** One delivery as a sender without a database makes it: fresh body, fresh signature, POST. */
export async function signedPost(agent: Agent, url: string, key: Buffer, n: number): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    ...signedRequest(key, `msg_${n}`, invoiceData(n)),
  });
  await res.body.dump();
}

/** What a sender keeps of a delivery's attempt (the hand-rolled queue's attempt row: bench/queues/). */
export interface PostOutcome {
  statusCode: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string | string[] | undefined>;
  /** The start of the response body. */
  excerpt: string;
}

/**
 * The same for an event whose id and data came from elsewhere (a queue's job: bench/queues/),
 * answering what an attempt log keeps of it.
 */
export async function signedPostRecorded(
  agent: Agent,
  url: string,
  key: Buffer,
  id: string,
  data: unknown,
): Promise<PostOutcome> {
  const { body, headers } = signedRequest(key, id, data);
  const res = await request(url, { method: 'POST', dispatcher: agent, body, headers });
  const excerpt = (await res.body.text()).slice(0, 1024);
  return { statusCode: res.statusCode, requestHeaders: headers, responseHeaders: res.headers, excerpt };
}

function signedRequest(key: Buffer, id: string, data: unknown) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ type: 'invoice.created', timestamp: new Date().toISOString(), data });
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
  return { body, headers };
}

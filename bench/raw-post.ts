/**
 * The ceiling's request: one raw undici POST of a small fixed webhook body with three headers. The
 * ceiling loop (bench/run.ts) and the durable loop (bench/durable-loop.ts) send exactly this, so
 * the two differ only in what the durable loop does around it.
 */
import { Agent, request } from 'undici';

/** The agent both loops post through: a keep-alive pool of 64 connections. */
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

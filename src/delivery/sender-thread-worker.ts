/**
 * The sender thread (sender-thread.ts): makes the webhook requests the dispatcher asks for, with
 * SSRF-guarded agents of its own, and answers each with its SendResult. Requests arrive and
 * results leave in batches (one message per event-loop turn), so a burst costs few messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Agent } from 'undici';
import { createAddressPolicy } from '../security/address-policy.ts';
import { createGuardedAgent } from '../security/guarded-dispatcher.ts';
import { type Cancellation, cancel, newCancellation, type SendResult, send } from './sender.ts';
import type { SenderThreadData, ToSender, WireSend } from './sender-thread-protocol.ts';

const data = workerData as SenderThreadData;
const port = parentPort!;
const policy = createAddressPolicy(data.policy);
const agents = new Map<number | null, Agent>();
const agentFor = (connectTimeoutMs: number | null): Agent => {
  let agent = agents.get(connectTimeoutMs);
  if (!agent) {
    agent = createGuardedAgent({
      policy,
      keepAliveTimeout: data.keepAliveTimeoutMs,
      connections: data.connections,
      ...(connectTimeoutMs === null ? {} : { connectTimeoutMs }),
    });
    agents.set(connectTimeoutMs, agent);
  }
  return agent;
};

const open = new Map<number, Cancellation>();
let results: Array<[number, SendResult]> = [];
let flushing = false;
const flush = () => {
  flushing = false;
  const batch = results;
  results = [];
  port.postMessage({ results: batch });
};

function start(s: WireSend): void {
  const [id, url, headers, body, connectTimeoutMs, totalTimeoutMs, maxExcerptBytes] = s;
  const cancellation = newCancellation();
  open.set(id, cancellation);
  void send({
    url,
    headers,
    body,
    dispatcher: agentFor(connectTimeoutMs),
    totalTimeoutMs,
    maxExcerptBytes,
    cancellation,
  }).then((r) => {
    open.delete(id);
    results.push([id, r]);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  });
}

port.on('message', (m: ToSender) => {
  for (const s of m.sends) start(s);
  for (const id of m.cancels) {
    const c = open.get(id);
    if (c) cancel(c);
  }
  if (m.close) {
    void Promise.all([...agents.values()].map((a) => a.close().catch(() => {}))).then(() => {
      port.postMessage({ closed: true });
    });
  }
});
port.postMessage({ ready: true });

/**
 * The publishing client of bench/publish-latency.ts, in a process of its own (forked with an IPC
 * channel): a product's backend calling Herald is another process, and a client sharing Herald's
 * event loop would time Herald's work into its own calls and its own work into Herald's.
 *
 * Commands (one at a time, answered with the same `id`):
 * - `sequential`: `warmup` then `calls` single-event publishes, one after another;
 * - `paced`: single-event publishes at `perSecond` for `seconds`, each sent on schedule without
 *   waiting for the previous answer.
 * Each event is `{type, data: {n, sentAt}}` (`n` from `serial` up, `sentAt` epoch ms) for the
 * receivers' publish → receipt figures. Answers every call's time (request sent → body read), its
 * status (0: no answer), the first few non-2xx bodies, and `sentAt` of the calls answered 2xx.
 */
import { Agent, request } from 'undici';

export interface PublishJob {
  /** `${herald.url}/v1/tenants/<t>/events` */
  url: string;
  adminKey: string;
  type: string;
  serial: number;
}

export type PublishCommand =
  | ({ cmd: 'sequential'; warmup: number; calls: number } & PublishJob)
  | ({ cmd: 'paced'; perSecond: number; seconds: number } & PublishJob);

export interface PublishAnswer {
  ms: number[];
  statuses: number[];
  errors: string[];
  /** [n, sentAt] of the calls answered 2xx. */
  sentAt: Array<[number, number]>;
  sendSeconds: number;
  answeredSeconds: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();
const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });

async function run(c: PublishCommand): Promise<PublishAnswer> {
  const out: PublishAnswer = {
    ms: [],
    statuses: [],
    errors: [],
    sentAt: [],
    sendSeconds: 0,
    answeredSeconds: 0,
  };
  let serial = c.serial;
  const headers = { authorization: `Bearer ${c.adminKey}`, 'content-type': 'application/json' };
  const publish = async (keep: boolean): Promise<void> => {
    const data = { n: serial++, sentAt: epochNow() };
    const t0 = performance.now();
    let status = 0;
    let text = '';
    try {
      const res = await request(c.url, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body: JSON.stringify({ type: c.type, data }),
      });
      text = await res.body.text();
      status = res.statusCode;
    } catch (err) {
      text = String(err);
    }
    const ms = performance.now() - t0;
    if (!keep) return;
    out.ms.push(ms);
    out.statuses.push(status);
    if (status >= 200 && status < 300) out.sentAt.push([data.n, data.sentAt]);
    else if (out.errors.length < 5) out.errors.push(`${status} ${text.slice(0, 300)}`);
  };
  const t0 = performance.now();
  if (c.cmd === 'sequential') {
    for (let i = 0; i < c.warmup; i++) await publish(false);
    for (let i = 0; i < c.calls; i++) await publish(true);
  } else {
    const total = Math.round(c.perSecond * c.seconds);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const wait = t0 + (i * 1000) / c.perSecond - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(publish(true));
    }
    out.sendSeconds = (performance.now() - t0) / 1000;
    await Promise.all(pending);
  }
  out.answeredSeconds = (performance.now() - t0) / 1000;
  return out;
}

process.on('message', (m: PublishCommand & { id: number }) => {
  void run(m).then((answer) => process.send?.({ id: m.id, answer }));
});
process.send?.({ ready: true });

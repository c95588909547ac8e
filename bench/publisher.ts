/**
 * The benchmark's publisher: the client that publishes events through Herald's API in batches of
 * 100, run as a child process — as a product publishing to Herald is another program — so that
 * building, serialising and sending its calls is not counted as Herald's CPU, nor takes turns on
 * Herald's event loop.
 *
 * Protocol over IPC: parent sends {cmd:'publish', url, key, tenant, n, parallel, from}; the child
 * answers {ms} once all `n` events (data `invoiceData(from + i)`) are accepted, `parallel` calls at
 * a time; {cmd:'cpu'} → {cpuMicros} (the CPU it has used so far). It answers {ready:true} once
 * started, and {error} if a call is refused.
 */
import { Agent, request } from 'undici';
import { invoiceData } from './raw-post.ts';

const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

interface PublishCommand {
  cmd: 'publish';
  url: string;
  key: string;
  tenant: string;
  n: number;
  parallel: number;
  from: number;
}

async function publish(c: PublishCommand): Promise<number> {
  const batches = Math.ceil(c.n / 100);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c.parallel }, async () => {
      while (next < batches) {
        const b = next++;
        const size = Math.min(100, c.n - b * 100);
        const events = Array.from({ length: size }, (_, i) => ({
          type: 'invoice.created',
          data: invoiceData(c.from + b * 100 + i),
        }));
        const res = await request(`${c.url}/v1/tenants/${c.tenant}/events`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${c.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        const text = await res.body.text();
        if (res.statusCode >= 300) throw new Error(`publish → ${res.statusCode} ${text}`);
      }
    }),
  );
  return performance.now() - start;
}

process.on('message', (msg: PublishCommand | { cmd: 'cpu' }) => {
  if (msg.cmd === 'cpu') {
    const cpu = process.cpuUsage();
    process.send?.({ cpuMicros: cpu.user + cpu.system });
    return;
  }
  publish(msg).then(
    (ms) => process.send?.({ ms }),
    (err: unknown) => process.send?.({ error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });

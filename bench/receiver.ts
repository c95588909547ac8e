/**
 * The benchmark's webhook receiver, run as a child process so it does not share an event loop with
 * what is measured. Answers 200 to every POST, counts receipts, verifies the Standard Webhooks
 * signature of every request but the bare ceiling's (`/raw`) with the bench's secret
 * (bench/raw-post.ts) — as a receiver must — and records publish-to-receipt latency when the body's
 * data carries `sentAt` (epoch ms with fractions).
 *
 * Protocol over IPC: parent sends {cmd:'reset'} | {cmd:'stats'}; child answers {port} once
 * listening and {count, badSignatures, latencies, cpuMicros} to 'stats' (cpuMicros: the CPU it has
 * used so far).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { benchKey } from './raw-post.ts';

const key = benchKey();
let count = 0;
let badSignatures = 0;
let latencies: number[] = [];
const now = () => performance.timeOrigin + performance.now();

function verified(headers: NodeJS.Dict<string | string[]>, body: Buffer): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(' ').some((s) => {
    const given = Buffer.from(s.slice(s.indexOf(',') + 1), 'base64');
    return s.startsWith('v1,') && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    count++;
    const body = Buffer.concat(chunks);
    if (!req.url?.startsWith('/raw') && !verified(req.headers, body)) badSignatures++;
    // Cheap probe before parsing: only latency runs put sentAt in the payload.
    if (body.includes('"sentAt"')) {
      try {
        const sentAt = (JSON.parse(body.toString('utf8')) as { data?: { sentAt?: number } }).data?.sentAt;
        if (typeof sentAt === 'number') latencies.push(now() - sentAt);
      } catch {}
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') {
    count = 0;
    latencies = [];
    process.send?.({ ok: true });
  } else if (msg.cmd === 'stats') {
    const cpu = process.cpuUsage();
    process.send?.({ count, badSignatures, latencies, cpuMicros: cpu.user + cpu.system });
  }
});
process.on('disconnect', () => process.exit(0));

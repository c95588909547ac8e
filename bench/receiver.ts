/**
 * The benchmark's webhook receiver, run as a child process so it does not share an event loop with
 * what is measured. Answers 200 to every POST, counts receipts, and records publish-to-receipt
 * latency when the body's data carries `sentAt` (epoch ms with fractions).
 *
 * Protocol over IPC: parent sends {cmd:'reset'} | {cmd:'stats'}; child answers {port} once
 * listening and {count, latencies, cpuMicros} to 'stats' (cpuMicros: the CPU it has used so far).
 */
import { createServer } from 'node:http';

let count = 0;
let latencies: number[] = [];
const now = () => performance.timeOrigin + performance.now();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    count++;
    const body = Buffer.concat(chunks);
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
    process.send?.({ count, latencies, cpuMicros: cpu.user + cpu.system });
  }
});
process.on('disconnect', () => process.exit(0));

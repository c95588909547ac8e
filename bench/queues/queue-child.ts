/**
 * One queue system of the comparison (bench/queues/compare.ts) in a process of its own, as Herald's
 * modes run: `node --import tsx bench/queues/queue-child.ts <system>`, with BENCH_QUEUE_DB (the
 * PostgreSQL URL), BENCH_QUEUE_URL (the receiver's address) and BENCH_QUEUE_TAG in the environment.
 *
 * Protocol over IPC: it answers {ready:true} once its system has started; {cmd:'run', n, from} →
 * {ms} once jobs `from`…`from + n - 1` are added (batches of 100, 4 producers at a time, as the
 * bench's publisher publishes to Herald; the handlers deliver them meanwhile); {cmd:'cpu'} →
 * {cpuMicros}; {cmd:'stop'} → {stopped:true}, then it exits.
 */
import { benchKey, invoiceData, rawAgent, signedPostRecorded } from '../raw-post.ts';
import type { QueueJob } from './system.ts';
import { SYSTEMS } from './systems.ts';

const name = process.argv[2] ?? '';
const entry = SYSTEMS[name];
if (!entry) throw new Error(`unknown queue system '${name}': ${Object.keys(SYSTEMS).join(', ')}`);
const agent = rawAgent();
const key = benchKey();
const url = process.env['BENCH_QUEUE_URL']!;
const system = await entry.start({
  databaseUrl: process.env['BENCH_QUEUE_DB']!,
  tag: process.env['BENCH_QUEUE_TAG'] ?? String(process.pid),
  concurrency: 64,
  deliver: (job: QueueJob) => signedPostRecorded(agent, url, key, job.id, job.data),
});

async function produce(n: number, from: number): Promise<number> {
  const batches = Math.ceil(n / 100);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches) {
        const b = next++;
        const size = Math.min(100, n - b * 100);
        await system.add(
          Array.from({ length: size }, (_, i) => {
            const k = from + b * 100 + i;
            return { id: `msg_${k}`, data: invoiceData(k) };
          }),
        );
      }
    }),
  );
  return performance.now() - t0;
}

type Command = { cmd: 'run'; n: number; from: number } | { cmd: 'cpu' } | { cmd: 'stop' };
process.on('message', (msg: Command) => {
  if (msg.cmd === 'cpu') {
    const cpu = process.cpuUsage();
    process.send?.({ cpuMicros: cpu.user + cpu.system });
  } else if (msg.cmd === 'run') {
    produce(msg.n, msg.from).then(
      (ms) => process.send?.({ ms }),
      (err: unknown) => process.send?.({ error: String(err) }),
    );
  } else {
    system
      .stop()
      .then(() => agent.close())
      .then(
        () => process.send?.({ stopped: true }, undefined, {}, () => process.exit(0)),
        (err: unknown) => process.send?.({ error: String(err) }),
      );
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });

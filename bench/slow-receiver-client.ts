/**
 * The parent's handle on bench/slow-receiver.ts (a child process): its ports, its counters by path
 * prefix, and waiting — bounded in time — for a number of deliveries under a prefix.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { ReceiverStats } from './slow-receiver.ts';

export type { ReceiverStats } from './slow-receiver.ts';

export interface SlowReceivers {
  ports: number[];
  stats(prefix: string, latencies?: boolean): Promise<ReceiverStats>;
  /** Zeroes the counters and the peak of open requests. */
  reset(): Promise<void>;
  /** Destroys every connection, the hanging ones included; resolves with how many requests were open. */
  drop(): Promise<number>;
  close(): void;
}

/** Epoch milliseconds with fractions, comparable with the receiver's. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export async function startSlowReceivers(portCount: number): Promise<SlowReceivers> {
  const child = fork(join(import.meta.dirname, 'slow-receiver.ts'), [String(portCount)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`slow receiver exited (${code}) before listening`)));
    child.on('message', (m: Record<string, unknown>) => {
      if (Array.isArray(m['ports'])) resolve(m['ports'] as number[]);
      const done = typeof m['id'] === 'number' ? waiting.get(m['id']) : undefined;
      if (done) {
        waiting.delete(m['id'] as number);
        done(m);
      }
    });
  });
  child.removeAllListeners('exit');
  const ask = (msg: object) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ ...msg, id });
    });
  return {
    ports,
    stats: async (prefix, latencies = false) =>
      (await ask({ cmd: 'stats', prefix, latencies }))['stats'] as ReceiverStats,
    reset: async () => {
      await ask({ cmd: 'reset' });
    },
    drop: async () => (await ask({ cmd: 'drop' }))['dropped'] as number,
    close: () => {
      child.kill();
    },
  };
}

export interface Waited {
  stats: ReceiverStats;
  /** Every expected delivery arrived before the cap. */
  complete: boolean;
  /** Epoch ms when waiting stopped: the last delivery when complete, the cap otherwise. */
  endAt: number;
}

/** Polls every 25 ms until `n` deliveries under `prefix` have arrived or `capMs` has passed. */
export async function waitForDeliveries(
  rx: SlowReceivers,
  prefix: string,
  n: number,
  capMs: number,
  latencies = false,
): Promise<Waited> {
  const deadline = epochNow() + Math.max(0, capMs);
  for (;;) {
    const stats = await rx.stats(prefix, false);
    const complete = stats.received >= n;
    if (complete || epochNow() >= deadline) {
      const endAt = complete ? stats.lastAt : epochNow();
      return { stats: latencies ? await rx.stats(prefix, true) : stats, complete, endAt };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

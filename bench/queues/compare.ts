/**
 * Herald against general-purpose job queues on the same machine, in one run (`BENCH_ONLY=queues
 * npm run bench`; issue 15 measured this table once by hand): each system delivers the same
 * `events` webhooks — the ceiling's request (bench/raw-post.ts: a fresh ~300-byte body,
 * HMAC-signed, POSTed, 64 in flight) as its job handler — to the same verifying receiver, with the
 * jobs added in batches of 100 by 4 producers while its workers run. First add to last receipt;
 * after a warm-up of 5,000 each, in rounds (the ceiling first in each round, then every system in
 * turn), the best round of each. CPU per delivery: the system's process (for a queue, its producer
 * and its workers; for Herald, its API and dispatcher — its publisher is another process) and its
 * store (every `postgres` process, or `redis-server`).
 *
 * Each queue runs in a process of its own (queue-child.ts), as each of Herald's modes does.
 */
import { join } from 'node:path';
import { processCpuMicros } from '../backend-cpu.ts';
import { type Child, forkBenchChild } from '../child.ts';
import { SYSTEMS } from './systems.ts';

export interface ComparisonHost {
  databaseUrl: string;
  /** Where the systems deliver (the bench receiver, a path it verifies signatures on). */
  receiverUrl: string;
  events: number;
  rounds: number;
  /** Zeroes the receiver's count. */
  reset(): Promise<void>;
  /** `performance.now()` once the receiver holds `n` since its reset. */
  waitForCount(n: number): Promise<number>;
  /** The signed ceiling for `n` requests, per second. */
  ceiling(n: number): Promise<number>;
  /** Herald (in this process): publishes `n` events through its API, in batches of 100. */
  heraldPublish(n: number): Promise<void>;
}

interface Contender {
  name: string;
  store: 'postgres' | 'redis-server';
  /** Adds `n` jobs (or publishes `n` events); resolves once all are accepted. */
  add(n: number): Promise<void>;
  /** The CPU its process has used so far, µs. */
  cpu(): Promise<number>;
}

/** A system that could not run here: why. */
export interface Skipped {
  skipped: string;
}

export interface ContenderFigures {
  perSecond: number;
  ratioToCeiling: number;
  /** µs per delivery in the best round: the system's process, its store. */
  cpuMicrosPerDelivery: { process: number; store: number };
  /** Every round's rate, in order. */
  rounds: number[];
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

const tagOf = (name: string) => `${process.pid}_${name.toLowerCase()}`;

async function startQueue(host: ComparisonHost, name: string): Promise<Contender & { child: Child }> {
  const { child } = await forkBenchChild(join(import.meta.dirname, 'queue-child.ts'), [name], {
    ...process.env,
    BENCH_QUEUE_DB: host.databaseUrl,
    BENCH_QUEUE_URL: host.receiverUrl,
    BENCH_QUEUE_TAG: tagOf(name),
  });
  let from = 0;
  return {
    name,
    child,
    store: name === 'bullmq' ? 'redis-server' : 'postgres',
    async add(n) {
      await child.ask<{ ms: number }>({ cmd: 'run', n, from }, 'ms');
      from += n;
    },
    cpu: async () => (await child.ask<{ cpuMicros: number }>({ cmd: 'cpu' }, 'cpuMicros')).cpuMicros,
  };
}

async function measure(host: ComparisonHost, c: Contender, n: number) {
  await host.reset();
  const p0 = await c.cpu();
  const s0 = processCpuMicros(c.store);
  const t0 = performance.now();
  await c.add(n);
  const t1 = await host.waitForCount(n);
  const processMicros = (await c.cpu()) - p0;
  const storeMicros = processCpuMicros(c.store) - s0;
  return {
    perSecond: n / ((t1 - t0) / 1000),
    cpu: { process: round(processMicros / n), store: round(storeMicros / n) },
  };
}

/** The comparison's figures: the best ceiling seen, and each system's. */
export async function runQueueComparison(
  host: ComparisonHost,
): Promise<{ ceilingPerSecond: number; systems: Record<string, ContenderFigures | Skipped> }> {
  const herald: Contender = {
    name: 'herald',
    store: 'postgres',
    add: (n) => host.heraldPublish(n),
    cpu: async () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
  };
  const queues: Array<Contender & { child: Child }> = [];
  try {
    const skipped: Record<string, Skipped> = {};
    const runnable: string[] = [];
    for (const [name, entry] of Object.entries(SYSTEMS)) {
      const reason = await entry.unavailable?.();
      if (reason) skipped[name] = { skipped: reason };
      else runnable.push(name);
    }
    for (const name of runnable)
      await SYSTEMS[name]!.prepare?.({ databaseUrl: host.databaseUrl, tag: tagOf(name) });
    for (const name of runnable) queues.push(await startQueue(host, name));
    const contenders = [herald, ...queues];
    for (const c of contenders) {
      await host.reset();
      await c.add(5000);
      await host.waitForCount(5000);
    }
    let ceiling = 0;
    const best = new Map<string, { perSecond: number; cpu: { process: number; store: number } }>();
    const rounds = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < host.rounds; r++) {
      ceiling = Math.max(ceiling, await host.ceiling(host.events));
      for (const c of contenders) {
        const m = await measure(host, c, host.events);
        rounds.get(c.name)!.push(round(m.perSecond));
        if (m.perSecond > (best.get(c.name)?.perSecond ?? 0)) best.set(c.name, m);
      }
    }
    const systems: Record<string, ContenderFigures | Skipped> = { ...skipped };
    for (const c of contenders) {
      const b = best.get(c.name)!;
      systems[c.name] = {
        perSecond: round(b.perSecond),
        ratioToCeiling: round(b.perSecond / ceiling, 3),
        cpuMicrosPerDelivery: b.cpu,
        rounds: rounds.get(c.name)!,
      };
    }
    return { ceilingPerSecond: round(ceiling), systems };
  } finally {
    for (const q of queues) {
      await q.child.ask({ cmd: 'stop' }, 'stopped').catch(() => q.child.close());
    }
  }
}

/**
 * Turning what the receiver saw into the isolation benchmarks' figures: a delivery rate over a
 * window that may have been cut short by its time cap, and publish → receipt percentiles in which an
 * event never received counts as at least as late as the cap allowed it to be.
 */
import type { Paced } from './isolation-herald.ts';
import type { Waited } from './slow-receiver-client.ts';

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export interface Throughput {
  /** Deliveries per second from the first publish to the last delivery (or to the cap). */
  perSecond: number;
  delivered: number;
  expected: number;
  /** False when the cap ended the window: `perSecond` is then the rate within it. */
  complete: boolean;
  seconds: number;
}

export function throughput(w: Waited, startAt: number, expected: number): Throughput {
  const delivered = Math.min(w.stats.received, expected);
  const seconds = Math.max(0.001, (w.endAt - startAt) / 1000);
  return {
    perSecond: round(delivered / seconds),
    delivered,
    expected,
    complete: w.complete,
    seconds: round(seconds, 2),
  };
}

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  published: number;
  delivered: number;
  /** Publish calls that failed (left out of the percentiles). */
  publishFailed: number;
  /** Some events never arrived before the cap and rank at or below p50 / p99: the true figure is higher. */
  p50IsLowerBound: boolean;
  p99IsLowerBound: boolean;
}

export function latency(paced: Paced, w: Waited): Latency {
  const got = new Map<number, number>(w.stats.latencies ?? []);
  const all: Array<{ ms: number; censored: boolean }> = [];
  for (const [n, sentAt] of paced.sentAt) {
    const ms = got.get(n);
    all.push(ms === undefined ? { ms: w.endAt - sentAt, censored: true } : { ms, censored: false });
  }
  all.sort((a, b) => a.ms - b.ms);
  const at = (p: number) => all[Math.min(all.length - 1, Math.floor((p / 100) * all.length))];
  const firstCensored = all.find((x) => x.censored);
  const bounded = (x: { ms: number } | undefined) =>
    firstCensored !== undefined && x !== undefined && firstCensored.ms <= x.ms;
  return {
    p50Ms: round(at(50)?.ms ?? Number.NaN, 2),
    p99Ms: round(at(99)?.ms ?? Number.NaN, 2),
    published: all.length,
    delivered: all.length - all.filter((x) => x.censored).length,
    publishFailed: paced.failed,
    p50IsLowerBound: bounded(at(50)),
    p99IsLowerBound: bounded(at(99)),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** a / b, rounded; null when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return null;
  return round(a / b, 3);
}

/** Peak of a sampled figure, every `ms` until `stop()`. */
export function samplePeak(ms: number, read: () => number): { stop(): number } {
  let peak = read();
  const timer = setInterval(() => {
    peak = Math.max(peak, read());
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

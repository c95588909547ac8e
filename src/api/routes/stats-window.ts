/**
 * Time windows of the stats routes. A window ends at the end of the current bucket, so buckets are
 * aligned to whole minutes or hours and a chart's bars do not shift between polls.
 */
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';

export type StatsWindowName = '1h' | '24h';

const WINDOWS: Record<StatsWindowName, { seconds: number; bucketSeconds: number }> = {
  '1h': { seconds: 3600, bucketSeconds: 60 },
  '24h': { seconds: 86_400, bucketSeconds: 3600 },
};

export interface StatsWindowBounds {
  window: StatsWindowName;
  from: Date;
  to: Date;
  bucketSeconds: number;
  buckets: number;
}

/** @example const w = statsWindow('24h', ctx.clock) // 24 one-hour buckets ending after now */
export function statsWindow(window: StatsWindowName, clock: Clock): StatsWindowBounds {
  const { seconds, bucketSeconds } = WINDOWS[window];
  const nowS = clock.now().getTime() / 1000;
  const toS = (Math.floor(nowS / bucketSeconds) + 1) * bucketSeconds;
  return {
    window,
    from: new Date((toS - seconds) * 1000),
    to: new Date(toS * 1000),
    bucketSeconds,
    buckets: seconds / bucketSeconds,
  };
}

/** Every bucket's start, oldest first, with `fill(i)` giving the figures of bucket i. */
export function fillBuckets<T>(w: StatsWindowBounds, fill: (i: number) => T): Array<{ start: string } & T> {
  return Array.from({ length: w.buckets }, (_, i) => ({
    start: new Date(w.from.getTime() + i * w.bucketSeconds * 1000).toISOString(),
    ...fill(i),
  }));
}

/**
 * "Now" for the queue's own figures: the database's clock in production (as the queue uses), the
 * injected clock in tests.
 */
export const queueNow = (clock: Clock): Date | null => (clock === systemClock ? null : clock.now());

export const rate = (succeeded: number, attempts: number): number | null =>
  attempts > 0 ? succeeded / attempts : null;

/**
 * When to try again. Retry policy is data: a schedule of delays in seconds, one entry per retry.
 *
 * Indexing, as Svix and Stripe users expect: the first attempt is always immediate (publishing makes
 * a delivery due at once) and is not in the schedule; `schedule[k]` is the wait after a failed
 * attempt k+1, before the next. A schedule of n entries therefore allows n + 1 attempts — `[2, 5]`
 * is now, +2 s, +5 s — and `[]` only the first. The default is Standard Webhooks': retries after
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (10 attempts).
 */
import type { NextStep } from './delivery-status.ts';

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [
  5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
];

/** ±20 %: spreads retries of a burst that failed together, so they do not return together. */
export const JITTER = 0.2;

/** Retry-After is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * The delay before the attempt after `attemptsMade` (≥ 1) failed attempts, with jitter; null when
 * the schedule is used up. `random` returns [0, 1) (0.5 = no jitter).
 *
 * @example retryDelayMs([5, 300], 1, () => 0.5) // 5000: the first retry, 5 s after the first attempt
 */
export function retryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random: () => number,
): number | null {
  const seconds = attemptsMade >= 1 ? schedule[attemptsMade - 1] : undefined;
  if (seconds === undefined) return null;
  return Math.max(0, Math.round(seconds * 1000 * (1 + (random() * 2 - 1) * JITTER)));
}

/**
 * A Retry-After header as a delay in ms: delta-seconds or an HTTP date. Null when absent or not
 * understood.
 *
 * @example parseRetryAfter('120', Date.now()) // 120000
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP dates always name the weekday and GMT; this keeps Date.parse from guessing at odd strings.
  if (!/GMT$/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

export interface AttemptResultForPolicy {
  statusCode?: number | undefined;
  retryAfter?: string | undefined;
}

/**
 * What becomes of a delivery after attempt `attemptNumber`: any 2xx succeeds; anything else is
 * retried on the schedule until it is used up. A 429/503 Retry-After can only lengthen the wait (a
 * receiver cannot make Herald retry faster than the schedule), and at most to 24 h.
 */
export function nextStep(
  result: AttemptResultForPolicy,
  attemptNumber: number,
  schedule: readonly number[],
  nowMs: number,
  random: () => number,
): NextStep {
  const code = result.statusCode;
  if (code !== undefined && code >= 200 && code < 300) return { status: 'succeeded' };
  const delay = retryDelayMs(schedule, attemptNumber, random);
  if (delay === null) return { status: 'failed' };
  if (code === 429 || code === 503) {
    const after = parseRetryAfter(result.retryAfter, nowMs);
    if (after !== null)
      return { status: 'pending', retryInMs: Math.max(delay, Math.min(after, MAX_RETRY_AFTER_MS)) };
  }
  return { status: 'pending', retryInMs: delay };
}

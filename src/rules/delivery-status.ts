/**
 * The delivery's status and what an attempt decides for it — one vocabulary for the store, the
 * queue, the retry policy and the metrics (docs/design.md, glossary and "The life of a delivery").
 */

/** pending until an attempt succeeds (`succeeded`) or the retry schedule is used up (`failed`). */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/**
 * An attempt's next step: the status it leaves its delivery in and, when that is still pending,
 * the wait before the next attempt (src/rules/retry-policy.ts decides it).
 */
export type NextStep =
  | { status: 'succeeded' }
  | { status: 'failed' }
  | { status: 'pending'; retryInMs: number };

/** A next step as the metrics label it (`herald_deliveries_total{outcome}`): pending reads retrying. */
export type NextStepLabel = 'succeeded' | 'retrying' | 'failed';

export function nextStepLabel(status: DeliveryStatus): NextStepLabel {
  return status === 'pending' ? 'retrying' : status;
}

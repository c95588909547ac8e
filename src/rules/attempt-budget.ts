/**
 * One attempt, one budget, one lease rule.
 *
 * - An attempt's budget is the endpoint's own total timeout, else its profile's, else Herald's
 *   default — whichever is set first — clamped to [1, {@link MAX_ATTEMPT_TIMEOUT_MS}]. Stored values
 *   above the maximum (the API once allowed 300 s) are clamped here, at use.
 * - The budget is the attempt's single deadline: an OAuth 2 token fetch runs inside it, and the
 *   request gets what is left (src/delivery/deliver-one.ts).
 * - A claim's lease covers the whole budget plus a margin (`HERALD_LEASE`): {@link leaseFor}. The
 *   claim SQL and the in-process handoff (src/publish/handoff-port.ts) both size leases this way,
 *   so an attempt never outlives its lease.
 */
import type { Profile } from '../profiles/profile.ts';

/**
 * The longest one attempt may take, token fetch and request together. It bounds isolation: a
 * receiver that hangs holds a request slot (and its claim) for at most this long, so one slow
 * endpoint cannot keep a dispatcher's slots for minutes. 60 s is generous next to what other
 * senders allow (Svix 15 s, GitHub 10 s) while leaving room for slow but working receivers.
 */
export const MAX_ATTEMPT_TIMEOUT_MS = 60_000;

/**
 * The attempt's budget: the first of the endpoint's, the profile's and the default total timeout
 * that is set, clamped to [1, MAX_ATTEMPT_TIMEOUT_MS].
 *
 * @example attemptBudgetMs(null, 5_000, 15_000) // 5000
 * @example attemptBudgetMs(300_000, undefined, 15_000) // 60000
 */
export function attemptBudgetMs(
  endpointTotalMs: number | null,
  profileTotalMs: number | undefined,
  defaultTotalMs: number,
): number {
  const ms = endpointTotalMs ?? profileTotalMs ?? defaultTotalMs;
  return Math.min(MAX_ATTEMPT_TIMEOUT_MS, Math.max(1, ms));
}

/**
 * A claim's lease: the attempt's whole budget (token fetch included) plus a margin for everything
 * around the request (recording the outcome, a busy event loop).
 *
 * @example leaseFor(attemptBudgetMs(null, undefined, 15_000), 30_000) // 45000
 */
export function leaseFor(budgetMs: number, leaseMarginMs: number): number {
  return budgetMs + leaseMarginMs;
}

/**
 * Profile name → the profile's own total timeout, for the profiles that set one: what the claim
 * SQL needs to size a lease as {@link attemptBudgetMs} does (passed as a jsonb parameter,
 * `coalesce(e.total_timeout_ms, ($n::jsonb ->> e.profile)::int, default)`, then clamped).
 *
 * @example profileBudgets(ALL_PROFILES) // { shipstream: 5000 }
 */
export function profileBudgets(profiles: readonly Profile[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of profiles) {
    if (p.timeouts?.totalMs !== undefined) out[p.name] = p.timeouts.totalMs;
  }
  return out;
}

/**
 * Direct handoff: when the API and a dispatcher run in one process (`herald serve`), publishing
 * gives the new deliveries to that dispatcher in memory after the commit. A fresh delivery then
 * costs no claim statement and no NOTIFY round trip — the dispatcher sends it at once — and its row
 * is written once, with its outcome (docs/decisions.md, "A handed-over delivery's row is written
 * once"):
 *
 * - The publish statement writes no rows for the deliveries it hands over, but one `handoffs` row
 *   (migration 023) naming them — ids, endpoints, events, reserved sequence numbers — under the
 *   worker's lease. It is committed before the API answers, like every row.
 * - Recording an attempt inserts the delivery's row in the state the attempt leaves it, beside the
 *   attempt row (attempt-rows.ts); a release inserts it pending (release-deliveries.ts). The write
 *   that settles a handoff's last delivery deletes the handoff (settlement-recorder.ts).
 * - If the process dies first, the lease runs out and any worker's recovery writes the rows not yet
 *   written, pending with an `interrupted` attempt (handoff-recovery.ts); they are claimed as usual.
 * - Reads see handed-over deliveries as pending, in flight under the worker (the `all_deliveries`
 *   view); claims count them as in flight for their endpoints until the handoff is deleted.
 *
 * A dispatcher only takes what it has room for (`reserve`: its free room, each endpoint's local room
 * under its limit, and a memory budget); the rest is inserted due and unclaimed, for whichever
 * worker claims first. fifo deliveries, deliveries of inactive endpoints and of endpoints whose
 * circuit is open are never handed off: they must go through the claim's ordering and pause rules.
 * An endpoint's cluster-wide limit is the claim's to keep: a handoff counts only this process's
 * requests, so with several workers it may overshoot an endpoint's limit as a concurrent claim can.
 */
import type { ClaimedDelivery } from './claimed-delivery.ts';

/** A new delivery publishing would hand over. */
export interface HandoffWanted {
  tenantId: string;
  endpointId: string;
  /** The endpoint's adaptive limit as publishing just read it; null: at the maximum, or not read now (kept candidates): the dispatcher keeps what it knows. */
  limit: number | null;
  /**
   * Set by the reservation: taken past the endpoint's ahead room, to wait in its backlog line
   * (src/delivery/handoff-room.ts).
   */
  heldBehind?: boolean;
}

export interface DeliveryHandoff {
  /** The worker the handoff row is written under. */
  readonly workerId: string;
  /** The lease's margin on top of the attempt's budget, as a claim sets it (src/rules/attempt-budget.ts). */
  readonly leaseMs: number;
  readonly defaultTotalTimeoutMs: number;
  /** The queue's injected time (tests), or null for the database's now(). */
  queueNow(): Date | null;
  /**
   * Reserves room for new deliveries, one entry each, whose events take `bytes` (their JSON);
   * answers which it will take (none when stopping, or when holding them would exceed its memory
   * budget).
   */
  reserve(wanted: readonly HandoffWanted[], bytes: number): boolean[];
  /**
   * After the commit: the deliveries handed over to `workerId` (at most those reserved), the
   * reservations (those `reserve` took) and the same `bytes`, so unused room is given back. Called
   * with `[]` when the publish failed.
   */
  accept(deliveries: ClaimedDelivery[], reserved: readonly HandoffWanted[], bytes: number): void;
}

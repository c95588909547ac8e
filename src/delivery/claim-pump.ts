/**
 * The dispatcher's claims: when to claim, how much, and what to do with what comes back.
 *
 * A claim goes out while more may be due (the last claim came back full; a NOTIFY, a retry falling
 * due or the idle poll woke it: `wake`) and there is a worthwhile batch of room — up to one batch
 * beyond the free slots, so a slot that frees finds work at once instead of waiting out a claim's
 * round trip. One claim at a time. What it brings is held (held-claims.ts) and started as slots
 * allow; the endpoints it left waiting for room are remembered, so recorded outcomes that may free
 * some can call for another claim (`outcomesRecorded`), and a NOTIFY naming only endpoints already
 * held a limit's worth of here need not (`holdsEnough`; docs/isolation.md, "Claiming ahead").
 */
import type { Db } from '../db/db.ts';
import { claimDeliveries } from '../queue/claim-deliveries.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import { MAX_ATTEMPT_TIMEOUT_MS } from '../rules/attempt-budget.ts';
import type { ClaimRoom } from './claim-room.ts';
import type { DispatcherConfig } from './dispatcher-options.ts';
import type { EndpointPace } from './endpoint-pace.ts';
import type { EndpointSlots } from './endpoint-slots.ts';
import type { HeldClaims } from './held-claims.ts';
import type { DeliveryLogger } from './logger.ts';

export interface ClaimPump {
  /** Starts what is held ready, as far as the concurrency goes, then claims if worthwhile. */
  pump(): void;
  /** More may be due: claim at the next chance. */
  wake(): void;
  /** The claim out, if any (a drain waits for it). */
  readonly claiming: Promise<void> | undefined;
  /**
   * Outcomes were recorded: whether a claim could now find room worth a round trip for an endpoint
   * the last claim left waiting — one that holds less than a limit's worth claimed ahead here (none,
   * if its room was taken by its tenant or another worker). While every such endpoint still has
   * that much waiting here, its finished requests start those, and claiming again would take a few
   * rows for the price of a batch. If so, wakes.
   */
  outcomesRecorded(): void;
  /** Left waiting for room by the last claim, and still a limit's worth waiting here (needsClaim). */
  holdsEnough(endpointId: string): boolean;
}

export function createClaimPump(o: {
  db: Db;
  cfg: DispatcherConfig;
  workerId: string;
  queueNow: () => Date | null;
  /** Each profile's longest attempt (src/rules/attempt-budget.ts). */
  budgets: Record<string, number>;
  room: ClaimRoom;
  pace: Pick<EndpointPace, 'reduced'>;
  held: Pick<HeldClaims, 'ready' | 'nextReady' | 'hold'>;
  slots: Pick<EndpointSlots, 'waitingOf' | 'limitOf'>;
  inFlight: () => number;
  /** Starts (or gives back) one delivery held ready. */
  begin: (d: ClaimedDelivery) => void;
  /** The dispatcher is running: claims go out only then. */
  running: () => boolean;
  /** Wakes the dispatcher in `delayMs` (the idle poll, a back-off after a failed claim). */
  armTimer: (delayMs: number) => void;
  log: DeliveryLogger;
}): ClaimPump {
  const { cfg, held, room, slots } = o;
  let claiming: Promise<void> | undefined;
  let moreDue = true;
  // Endpoints the last claim left waiting for room: a recorded outcome may free some.
  let limitedEndpoints: string[] = [];

  function pump(): void {
    while (held.ready > 0 && o.inFlight() < cfg.concurrency) o.begin(held.nextReady()!);
    if (!o.running() || claiming || !moreDue) return;
    // Still, a claim per finished request would cost a round trip each: wait for a worthwhile
    // batch of room, unless nothing at all is held.
    const space = room.free() + cfg.batchSize;
    const worthwhile = Math.max(1, Math.floor(Math.min(cfg.batchSize, cfg.concurrency) / 4));
    if (space <= 0 || (o.inFlight() + held.ready > 0 && space < worthwhile)) return;
    const limit = Math.min(cfg.batchSize, space);
    moreDue = false;
    // Before the statement: the lease starts no earlier than this.
    const claimedAt = performance.now();
    const ahead = room.aheadNow();
    claiming = claimDeliveries(o.db, {
      workerId: o.workerId,
      limit,
      leaseMs: cfg.leaseMs,
      defaultTotalTimeoutMs: cfg.defaultTotalTimeoutMs,
      maxAttemptMs: MAX_ATTEMPT_TIMEOUT_MS,
      profileBudgets: o.budgets,
      maxInFlightPerEndpoint: cfg.maxInFlightPerEndpoint,
      maxInFlightPerTenant: cfg.maxInFlightPerTenant,
      claimAhead: ahead,
      aheadByEndpoint: ahead > 1 ? o.pace.reduced() : undefined,
      now: o.queueNow(),
    })
      .then(
        ({ deliveries, moreDue: more, limitedEndpoints: limited }) => {
          if (more) moreDue = true;
          limitedEndpoints = limited;
          held.hold(deliveries, claimedAt);
          if (!moreDue) o.armTimer(cfg.pollIntervalMs);
        },
        (err: unknown) => {
          o.log.error({ err }, 'claiming deliveries failed');
          o.armTimer(cfg.claimErrorBackoffMs);
        },
      )
      .finally(() => {
        claiming = undefined;
        pump();
      });
  }

  const wake = () => {
    moreDue = true;
    pump();
  };

  return {
    pump,
    wake,
    get claiming() {
      return claiming;
    },
    outcomesRecorded() {
      if (limitedEndpoints.some((id) => slots.waitingOf(id) < slots.limitOf(id))) {
        limitedEndpoints = [];
        wake();
      }
    },
    holdsEnough: (id) => limitedEndpoints.includes(id) && slots.waitingOf(id) >= slots.limitOf(id),
  };
}

/**
 * The dispatcher: claims due deliveries in batches and keeps up to `concurrency` requests in flight,
 * claiming the next batch while earlier requests are still out, and hands settlements (an attempt to
 * record, or a release) to a recorder that writes them in batches. No transaction is ever held across an HTTP request.
 *
 * When to claim (how much, and the claims themselves: claim-pump.ts):
 * - at once while the last claim came back full (more is due) and enough slots are free;
 * - on NOTIFY (publishing, retry, recover) — only a nudge, everything below works without it;
 * - when a retry this dispatcher scheduled falls due (it knows the delay it wrote);
 * - every `pollIntervalMs` while idle: covers other workers' retries, expired leases, paused rows.
 *
 * Stopping drains: no more claims, in-flight requests get `graceMs` to finish and be recorded, the
 * rest are aborted and their claims released (due at once, attempt count restored) — so a SIGTERM
 * never makes a delivery wait out a lease.
 */
import { systemClock } from '../core/clock.ts';
import { ALL_PROFILES } from '../profiles/index.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import { recoverHandoffs } from '../queue/handoff-recovery.ts';
import { deliveryChannel, needsClaim } from '../queue/notify.ts';
import type { EndpointHealth } from '../queue/record-outcomes.ts';
import { profileBudgets } from '../rules/attempt-budget.ts';
import { nextStepLabel } from '../rules/delivery-status.ts';
import { createClaimPump } from './claim-pump.ts';
import { createClaimRoom } from './claim-room.ts';
import { createDeliverContext } from './deliver-context.ts';
import { deliverOne, releaseOf, type Settlement } from './deliver-one.ts';
import {
  DEFAULT_DISPATCHER_CONFIG,
  type DeliveryDispatcher,
  type DispatcherConfig,
  type DispatcherOptions,
  defaultWorkerId,
} from './dispatcher-options.ts';
import { createEndpointPace } from './endpoint-pace.ts';
import { createEndpointSlots } from './endpoint-slots.ts';
import { createHandoffRoom } from './handoff-room.ts';
import { createHeldClaims } from './held-claims.ts';
import { createLocalCircuits } from './local-circuits.ts';
import { silentLogger } from './logger.ts';
import { periodicPass } from './periodic-pass.ts';
import { type Cancellation, cancel, newCancellation } from './sender.ts';
import { createSettlementRecorder } from './settlement-recorder.ts';
import { createWakeTimer } from './wake-timer.ts';

export {
  DEFAULT_DISPATCHER_CONFIG,
  type DeliveryDispatcher,
  type DispatcherConfig,
  type DispatcherOptions,
  defaultWorkerId,
} from './dispatcher-options.ts';

/**
 * @example const d = createDispatcher({ db, secretBox, agent: createGuardedAgent(…), logger }); await d.start(); … await d.stop({ graceMs: 10_000 })
 */
export function createDispatcher(options: DispatcherOptions): DeliveryDispatcher {
  const cfg: DispatcherConfig = { ...DEFAULT_DISPATCHER_CONFIG, ...options.config };
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const injected = options.clock && options.clock !== systemClock ? options.clock : undefined;
  const queueNow = () => injected?.now() ?? null;
  const workerId = options.workerId ?? defaultWorkerId();
  const log = options.logger ?? silentLogger;
  const { ctx, closeAgents } = createDeliverContext(options, cfg, clock);

  const inFlight = new Map<string, Cancellation>();
  const handoffRoom = createHandoffRoom(cfg.maxInFlightPerTenant);
  const slots = createEndpointSlots(
    cfg.maxInFlightPerEndpoint,
    (d) => startWaiting(d),
    (tenantId) => handoffRoom.tenantRoom(tenantId),
    // A raised limit never starts more than the process's concurrency allows (HERALD_CONCURRENCY).
    () => cfg.concurrency - inFlight.size,
  );
  // Claimed or handed over, not sent yet: ready to start, or waiting for an endpoint slot.
  const held = createHeldClaims({ leaseMs: cfg.leaseMs, maxBytes: cfg.maxHeldBytes, slots });
  let idleWaiters: Array<() => void> = [];
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let stopping: Promise<void> | undefined;
  const timer = createWakeTimer(() => wake());
  let unlisten: (() => Promise<void>) | undefined;

  const recorder = createSettlementRecorder({
    db,
    workerId,
    now: queueNow,
    maxItems: cfg.flushMaxItems,
    delayMs: cfg.flushDelayMs,
    promptDelayMs: cfg.promptFlushDelayMs,
    health: {
      maxInFlightPerEndpoint: cfg.maxInFlightPerEndpoint,
      circuitFailureThreshold: cfg.circuitFailureThreshold,
      circuitCooldownMs: cfg.circuitCooldownMs,
      circuitMaxCooldownMs: cfg.circuitMaxCooldownMs,
      // Its limit below the cap here (still rising, or halved by congestion) or its circuit open:
      // a success changes its row, so the short recording statement would be a wasted round trip.
      mayBeSteady: (id) => slots.limitOf(id) >= cfg.maxInFlightPerEndpoint && circuits.openFor(id) <= 0,
    },
    logger: log,
    onFlushed({ soonestDueInMs, fifoFinished, endpoints }) {
      for (const e of endpoints) endpointChanged(e);
      if (state === 'running') claims.outcomesRecorded();
      if (fifoFinished || (soonestDueInMs !== null && soonestDueInMs <= 0)) wake();
      else if (soonestDueInMs !== null) armTimer(soonestDueInMs);
    },
  });

  // Handoffs of a worker that stopped before recording all of them (src/queue/handoff-recovery.ts):
  // their deliveries written due, for any worker to claim.
  const recovery = periodicPass(
    async () => {
      const { deliveries } = await recoverHandoffs(db, { now: queueNow() });
      if (deliveries > 0) {
        log.info({ deliveries }, 'recovered handed-over deliveries whose lease ran out');
        wake();
      }
    },
    cfg.pollIntervalMs,
    (err) => log.warn({ err }, 'recovering handoffs failed'),
  );

  const circuits = createLocalCircuits(() => injected?.now().getTime() ?? Date.now());

  /**
   * Recorded outcomes changed an endpoint's limit or circuit. An open circuit gives back what this
   * process holds of the endpoint unsent (due when the circuit cools down; no attempt spent); a
   * changed limit applies to the endpoint's next requests here.
   */
  function endpointChanged(e: EndpointHealth): void {
    if (e.circuitState === 'open' && e.circuitUntil) {
      circuits.opened(e.endpointId, e.circuitUntil.getTime());
      const delayMs = circuits.openFor(e.endpointId);
      if (delayMs > 0) {
        for (const d of held.takeOf(e.endpointId)) release(d, delayMs);
        return;
      }
    }
    circuits.closed(e.endpointId);
    slots.setLimit(e.endpointId, e.circuitState === 'open' ? 1 : e.concurrencyLimit);
  }

  // Each endpoint's share of what is held ahead, by how fast its requests finish: a delivery held
  // ahead should start well within the hold limit (held-claims.ts), not be given back unsent.
  const pace = createEndpointPace({ maxAhead: cfg.claimAhead, holdMs: held.maxHoldMs / 3 });
  const room = createClaimRoom({
    concurrency: cfg.concurrency,
    claimAhead: cfg.claimAhead,
    inFlight: () => inFlight.size,
    slots,
    held,
    handoffRoom,
    pace,
  });
  const claims = createClaimPump({
    db,
    cfg,
    workerId,
    queueNow,
    budgets: profileBudgets(options.profiles ?? ALL_PROFILES),
    room,
    pace,
    held,
    slots,
    inFlight: () => inFlight.size,
    begin: (d) => begin(d),
    running: () => state === 'running',
    armTimer: (delayMs) => armTimer(delayMs),
    log,
  });
  const pump = () => claims.pump();
  // Handed-over deliveries start once the publishing calls have answered: accept() runs in the
  // publish's own turn, before the continuations that write its answers, and starting a delivery
  // (render, sign, hand to the sender) there held every answer back by that much, ~0.1–0.25 ms
  // (docs/decisions.md, "Direct handoff in `herald serve`").
  let pumpPending = false;
  const pumpAfterAnswers = () => {
    if (pumpPending) return;
    pumpPending = true;
    setImmediate(() => {
      pumpPending = false;
      pump();
    });
  };

  /** A waiting delivery a raised limit lets start, its slot taken (endpoint-slots.ts). */
  function startWaiting(d: ClaimedDelivery): void {
    if (state !== 'running') {
      release(d, 0);
      return;
    }
    if (!releaseIfStale(d)) {
      send(d);
      return;
    }
    // Held too long to send: its slot passes on to the next one still worth sending.
    const next = nextWaiting(d.endpointId);
    if (next) send(next);
  }

  /** Wakes the dispatcher in `delayMs` unless it is already due to wake sooner. */
  function armTimer(delayMs: number): void {
    if (state === 'running') timer.arm(delayMs);
  }

  function wake(): void {
    if (state === 'running') claims.wake();
  }

  /** An attempt's effects here: the endpoint's pace, metrics, logs. */
  function observe(d: ClaimedDelivery, settlement: Settlement): void {
    if (settlement.kind !== 'attempt') return;
    const r = settlement.record;
    if (!r.sentNothing) pace.observe(d.endpointId, r.durationMs);
    options.metrics?.attemptFinished(nextStepLabel(r.status), r.durationMs);
    if (r.endpointGone) {
      log.warn({ tenantId: d.tenantId, endpointId: d.endpointId }, 'endpoint disabled: it answered 410 Gone');
    } else if (r.status === 'failed') {
      log.info(
        {
          tenantId: d.tenantId,
          endpointId: d.endpointId,
          deliveryId: d.id,
          attempts: r.attemptNumber,
          error: r.errorMessage,
        },
        'delivery failed: retry schedule used up',
      );
    }
  }

  const release = (d: ClaimedDelivery, delayMs: number) => {
    held.letGo(d);
    recorder.add(releaseOf(d, delayMs));
  };

  // A stale claim (held-claims.ts) is given back rather than sent; one warning per burst.
  let heldTooLong = 0;
  function releaseIfStale(d: ClaimedDelivery): boolean {
    if (!held.isStale(d, performance.now())) return false;
    release(d, 0);
    if (heldTooLong++ === 0) {
      queueMicrotask(() => {
        log.warn(
          { released: heldTooLong, heldMs: held.maxHoldMs },
          'claims held too long unsent were given back',
        );
        heldTooLong = 0;
      });
    }
    return true;
  }

  function begin(d: ClaimedDelivery): void {
    if (state !== 'running') {
      // Claimed while stopping began: give it straight back.
      release(d, 0);
      return;
    }
    if (releaseIfStale(d)) return;
    // Handed over (or claimed) just before its endpoint's circuit opened here.
    const circuitMs = circuits.openFor(d.endpointId);
    if (circuitMs > 0) {
      release(d, circuitMs);
      return;
    }
    if (slots.admit(d) === 'start') send(d);
  }

  /** The endpoint's next waiting delivery that is still worth sending, its slot already taken. */
  function nextWaiting(endpointId: string): ClaimedDelivery | undefined {
    for (;;) {
      const next = slots.finish(endpointId);
      if (!next || state !== 'running' || !releaseIfStale(next)) return next;
    }
  }

  /** Sends `d`, whose endpoint slot is already taken. */
  function send(d: ClaimedDelivery): void {
    const cancellation = newCancellation();
    inFlight.set(d.id, cancellation);
    handoffRoom.started(d.tenantId);
    deliverOne(d, ctx, cancellation)
      .then(
        (settlement) => {
          observe(d, settlement);
          recorder.add(settlement);
        },
        (err: unknown) => {
          log.error({ err, deliveryId: d.id }, 'delivery crashed; releasing it');
          release(d, 0);
        },
      )
      .finally(() => {
        held.letGo(d);
        inFlight.delete(d.id);
        handoffRoom.finished(d.tenantId);
        const next = nextWaiting(d.endpointId);
        if (next) {
          if (state === 'running') send(next);
          else release(next, 0);
        } else if (state === 'running') {
          slots.resume(d.tenantId);
          slots.resumeProcess();
        }
        if (inFlight.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
        pump();
      });
  }

  function idle(): Promise<void> {
    if (inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  async function drain(graceMs: number): Promise<void> {
    state = 'stopping';
    timer.clear();
    await recovery.stop();
    // Never sent: give them straight back.
    for (const d of held.takeAll()) release(d, 0);
    const stopListening = unlisten;
    unlisten = undefined;
    await stopListening?.().catch((err: unknown) => log.warn({ err }, 'UNLISTEN failed'));
    await claims.claiming;
    if (inFlight.size > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        idle(),
        new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(graceTimer);
      if (inFlight.size > 0)
        log.info({ inFlight: inFlight.size }, 'grace period over: releasing in-flight deliveries');
      for (const c of inFlight.values()) cancel(c);
      await idle();
    }
    await recorder.flush();
    await closeAgents();
    idleWaiters = [];
    state = 'stopped';
  }

  return {
    workerId,
    get inFlight() {
      return inFlight.size;
    },
    get running() {
      return state === 'running';
    },
    async start() {
      if (state !== 'new') throw new Error('the dispatcher was already started');
      state = 'running';
      recovery.start();
      if (options.listen !== false) {
        try {
          const stop = await db.listen(await deliveryChannel(db), (payload) => {
            if (needsClaim(payload, claims.holdsEnough)) wake();
          });
          if (state === 'running') unlisten = stop;
          else await stop();
        } catch (err) {
          log.warn({ err }, 'LISTEN failed; relying on polling');
        }
      }
      wake();
    },
    stop({ graceMs = 10_000 } = {}) {
      if (state === 'new') state = 'stopped';
      stopping ??= state === 'stopped' ? Promise.resolve() : drain(graceMs);
      return stopping;
    },
    wake,
    handoff: {
      workerId,
      leaseMs: cfg.leaseMs,
      defaultTotalTimeoutMs: cfg.defaultTotalTimeoutMs,
      queueNow,
      reserve(wanted, bytes) {
        if (state !== 'running' || !held.fits(bytes)) return wanted.map(() => false);
        for (const w of wanted) if (w.limit !== null) slots.setLimit(w.endpointId, w.limit);
        const taken = handoffRoom.reserve(wanted, {
          free: room.free(),
          endpointRoom: (id) => slots.room(id),
          // Handed-over deliveries go before those claimed ahead (endpoint-slots.ts): only those
          // in flight and handed over before them count.
          endpointAheadRoom: (id) => slots.freshRoom(id, room.aheadOf(id)),
          endpointBehindRoom: (id) => slots.room(id, pace.behindFor(id)),
          behindFree: room.behindFree(),
          circuitOpen: (id) => circuits.openFor(id) > 0,
        });
        if (taken.includes(true)) held.reserve(bytes);
        return taken;
      },
      accept(deliveries, reserved, bytes) {
        handoffRoom.release(reserved);
        if (reserved.length > 0) held.reserve(-bytes);
        for (const d of deliveries) if (d.handoff) recorder.expect(d.handoff.handoffId, 1);
        // The lease began one statement earlier; half a lease of margin (`stale`) covers that.
        held.hold(deliveries, performance.now(), { bytes });
        pumpAfterAnswers();
      },
    },
  };
}

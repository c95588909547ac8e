/**
 * Batches settlements (attempts to record, releases: deliver-one.ts) into few writes, group-commit
 * style: the first waits `delayMs` for company — `promptDelayMs` once the batch holds one that
 * something waits on ({@link isPrompt}) — a full batch goes at once, and while one write is out the
 * next batch accumulates. One write at a time keeps the order of a delivery's writes and leaves the
 * connection pool to claiming.
 *
 * A failed write keeps its settlements and is retried with backoff; writes are idempotent (see
 * record-outcomes.ts), so retrying a half-applied batch is safe. Should they never succeed, the
 * leases run out and the deliveries are sent again: at-least-once holds either way.
 */
import type { Db } from '../db/db.ts';
import { finishHandoffs } from '../queue/handoff-recovery.ts';
import {
  type AttemptRecord,
  type EndpointHealth,
  type RecordOptions,
  recordAttempts,
} from '../queue/record-outcomes.ts';
import { type Release, releaseDeliveries } from '../queue/release-deliveries.ts';
import type { Settlement } from './deliver-one.ts';
import type { DeliveryLogger } from './logger.ts';

export interface FlushSummary {
  /** The soonest a written delivery falls due again (ms from now), or null. */
  soonestDueInMs: number | null;
  /** A fifo delivery finished: its successor may be claimed now. */
  fifoFinished: boolean;
  /** Endpoints whose adaptive limit or circuit the write changed. */
  endpoints: EndpointHealth[];
}

export interface SettlementRecorderOptions {
  db: Db;
  workerId: string;
  /** The queue's injected time, or null for the database's clock. */
  now: () => Date | null;
  maxItems: number;
  delayMs: number;
  /** The wait once a prompt settlement is in the batch (at most `delayMs`); omitted: `delayMs`. */
  promptDelayMs?: number;
  /** The adaptive limit's ceiling and the circuit's settings (record-outcomes.ts). */
  health?: Pick<
    RecordOptions,
    | 'maxInFlightPerEndpoint'
    | 'circuitFailureThreshold'
    | 'circuitCooldownMs'
    | 'circuitMaxCooldownMs'
    | 'mayBeSteady'
  >;
  logger: DeliveryLogger;
  onFlushed(summary: FlushSummary): void;
}

export interface SettlementRecorder {
  add(settlement: Settlement): void;
  /**
   * `count` deliveries of handoff `handoffId` were handed over (src/queue/handoff.ts): the write that
   * settles the last of them deletes the handoff row.
   */
  expect(handoffId: string, count: number): void;
  /** Writes everything buffered; gives up (logging) after `maxFailures` failed writes in a row. */
  flush(maxFailures?: number): Promise<void>;
  readonly buffered: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * A settlement something waits on: a FIFO delivery's attempt (its successor is claimed once it is
 * written), or any of a claimed delivery (its lease counts against its endpoint's room in every
 * claim until then: a backlog drains no faster than its outcomes are written). Only those of
 * deliveries handed over by publishing, which no claim waits on, may wait longer for company.
 */
export function isPrompt(o: Settlement): boolean {
  if (o.kind === 'release') return o.release.handoff === undefined;
  return o.fifo || o.record.handoff === undefined;
}

export function createSettlementRecorder(opts: SettlementRecorderOptions): SettlementRecorder {
  let buffer: Settlement[] = [];
  let timer: NodeJS.Timeout | undefined;
  // When the pending timer fires (performance.now()), so a prompt settlement can bring it forward.
  let timerAt = 0;
  let promptWaiting = false;
  const promptDelayMs = Math.min(opts.promptDelayMs ?? opts.delayMs, opts.delayMs);
  let writing: Promise<void> | undefined;
  let failures = 0;
  // Handed-over deliveries not settled yet, by handoff.
  const outstanding = new Map<string, number>();

  async function write(items: Settlement[]): Promise<EndpointHealth[]> {
    const records: AttemptRecord[] = [];
    const releases: Release[] = [];
    // This write's settlements of each handoff: [recorded, released].
    const handoffs = new Map<string, [number, number]>();
    for (const o of items) {
      const settled = o.kind === 'attempt' ? o.record : o.release;
      if (o.kind === 'attempt') records.push(o.record);
      else releases.push(o.release);
      if (!settled.handoff) continue;
      const n = handoffs.get(settled.handoff.handoffId) ?? [0, 0];
      n[o.kind === 'attempt' ? 0 : 1]++;
      handoffs.set(settled.handoff.handoffId, n);
    }
    // A handoff whose last deliveries this write settles is deleted by the statement writing them,
    // so it never goes before a row it stands in for; split between both statements (they run
    // side by side), once both are written.
    const byRecord: string[] = [];
    const byRelease: string[] = [];
    const afterBoth: string[] = [];
    for (const [id, [recorded, released]] of handoffs) {
      if (outstanding.get(id) !== recorded + released) continue;
      (released === 0 ? byRecord : recorded === 0 ? byRelease : afterBoth).push(id);
    }
    const now = opts.now();
    const [recorded, released] = await Promise.allSettled([
      recordAttempts(opts.db, records, {
        ...opts.health,
        workerId: opts.workerId,
        now,
        finishedHandoffs: byRecord,
      }),
      releaseDeliveries(opts.db, releases, { workerId: opts.workerId, now, finishedHandoffs: byRelease }),
    ]);
    if (recorded.status === 'rejected') throw recorded.reason;
    if (released.status === 'rejected') throw released.reason;
    await finishHandoffs(opts.db, afterBoth);
    for (const [id, [r, l]] of handoffs) {
      const left = (outstanding.get(id) ?? 0) - r - l;
      if (left > 0) outstanding.set(id, left);
      else outstanding.delete(id);
    }
    return recorded.value.endpoints;
  }

  function summarise(items: Settlement[], endpoints: EndpointHealth[]): FlushSummary {
    let soonest: number | null = null;
    let fifoFinished = false;
    for (const o of items) {
      const due = o.kind === 'release' ? o.release.delayMs : o.record.retryInMs;
      if (due !== null && (soonest === null || due < soonest)) soonest = due;
      if (o.kind === 'attempt' && o.fifo && o.record.status !== 'pending') fifoFinished = true;
    }
    return { soonestDueInMs: soonest, fifoFinished, endpoints };
  }

  function startWrite(): void {
    if (writing || buffer.length === 0) return;
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const items = buffer.splice(0, opts.maxItems);
    promptWaiting = buffer.some(isPrompt);
    writing = write(items)
      .then(
        (endpoints) => {
          failures = 0;
          opts.onFlushed(summarise(items, endpoints));
        },
        (err: unknown) => {
          failures++;
          buffer = items.concat(buffer);
          if (items.some(isPrompt)) promptWaiting = true;
          opts.logger.error(
            { err, settlements: items.length, failures },
            'recording delivery outcomes failed',
          );
        },
      )
      .finally(() => {
        writing = undefined;
        schedule();
      });
  }

  function schedule(): void {
    if (writing || buffer.length === 0) return;
    // A full batch goes at once, even while the first of it waits for company (startWrite clears
    // that timer) — but not past the back-off after a failed write.
    if (failures === 0 && buffer.length >= opts.maxItems) {
      startWrite();
      return;
    }
    const wait =
      failures > 0
        ? Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures)
        : promptWaiting
          ? promptDelayMs
          : opts.delayMs;
    if (timer) {
      // Already waiting: only a prompt settlement arriving brings the write forward.
      if (failures > 0 || performance.now() + wait >= timerAt) return;
      clearTimeout(timer);
    }
    timerAt = performance.now() + wait;
    timer = setTimeout(() => {
      timer = undefined;
      startWrite();
    }, wait);
  }

  return {
    add(settlement) {
      buffer.push(settlement);
      if (isPrompt(settlement)) promptWaiting = true;
      schedule();
    },
    expect(handoffId, count) {
      outstanding.set(handoffId, (outstanding.get(handoffId) ?? 0) + count);
    },
    async flush(maxFailures = 3) {
      const startFailures = failures;
      while (buffer.length > 0 || writing) {
        if (!writing) startWrite();
        await writing;
        if (failures - startFailures >= maxFailures) {
          opts.logger.error(
            { outcomes: buffer.length },
            'giving up recording outcomes; their leases will expire',
          );
          break;
        }
      }
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get buffered() {
      return buffer.length;
    },
  };
}

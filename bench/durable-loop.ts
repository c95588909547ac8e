/**
 * The durable loop: the ceiling's raw undici POST loop with Herald's database work added and
 * nothing else. Events are published through `publishEvents` (batches of 100, four publishers, the
 * new deliveries handed straight to the loop as `herald serve` hands them to its dispatcher, so
 * none is claimed), each delivery is POSTed exactly as the ceiling posts (bench/raw-post.ts: a fresh
 * body, signed, 64 in flight) and the outcomes — attempt rows as Herald writes them for a 200 — are recorded through
 * `recordOutcomes`, batched as the dispatcher batches them (up to 500, one write at a time).
 *
 * No HTTP API, no dispatcher, no profile rendering: what committing each event, its delivery,
 * the outcome and an attempt row costs on this machine on top of a bare request. It bounds the
 * end-to-end figure from above — Herald does all of this plus its own Node work — so the two
 * ratios (`durableLoopRatioToCeiling`, `endToEndRatioToDurableLoop`) split the gap to the ceiling
 * into the database's share and Herald's own (docs/performance.md, "The floor").
 */
import type { Db } from '../src/db/db.ts';
import { publishEvents } from '../src/publish/publish-events.ts';
import type { ClaimedDelivery } from '../src/queue/claimed-delivery.ts';
import type { DeliveryHandoff } from '../src/queue/handoff.ts';
import { type AttemptRecord, recordOutcomes } from '../src/queue/record-outcomes.ts';
import { success } from './database-phases.ts';
import { benchKey, invoiceData, rawAgent, signedPost } from './raw-post.ts';

const WORKER = 'durable-loop';

/**
 * Runs the loop for `n` events of `tenantId` (one endpoint, pointing at `url`); answers the
 * milliseconds from the first publish to the last recorded outcome.
 */
export async function runDurableLoop(
  db: Db,
  tenantId: string,
  url: string,
  n: number,
  concurrency: number,
): Promise<number> {
  const agent = rawAgent();
  // A list read from a moving head: shift() on an array this long (in V8's large-object space)
  // moves the whole rest of it every time.
  const queue: ClaimedDelivery[] = [];
  let head = 0;
  // Senders with nothing to send park here; new deliveries (or the end of publishing) wake them.
  let parked: Array<() => void> = [];
  const wakeAll = () => {
    const woken = parked;
    parked = [];
    for (const w of woken) w();
  };
  let published = false;
  // Each handoff's deliveries not recorded yet: the write recording its last one deletes it, as
  // src/delivery/settlement-recorder.ts does.
  const outstanding = new Map<string, number>();
  const handoff: DeliveryHandoff = {
    workerId: WORKER,
    leaseMs: 600_000,
    defaultTotalTimeoutMs: 15_000,
    queueNow: () => null,
    reserve: (wanted) => wanted.map(() => true),
    accept(deliveries) {
      for (const d of deliveries)
        if (d.handoff) outstanding.set(d.handoff.handoffId, (outstanding.get(d.handoff.handoffId) ?? 0) + 1);
      queue.push(...deliveries);
      wakeAll();
    },
  };
  const next = async (): Promise<ClaimedDelivery | undefined> => {
    for (;;) {
      const d = head < queue.length ? queue[head++] : undefined;
      if (d || published) return d;
      await new Promise<void>((resolve) => parked.push(resolve));
    }
  };

  // Outcomes batched as src/delivery/settlement-recorder.ts batches them, with its defaults: the first
  // waits 2 ms for company, a full batch of 500 goes at once, one write at a time while the next
  // batch gathers.
  const pending: AttemptRecord[] = [];
  let written = 0;
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing ??= (async () => {
      while (pending.length > 0) {
        const batch = pending.splice(0, 500);
        const finishedHandoffs: string[] = [];
        for (const r of batch) {
          const id = r.handoff?.handoffId;
          if (id === undefined) continue;
          const left = outstanding.get(id)! - 1;
          if (left > 0) outstanding.set(id, left);
          else {
            outstanding.delete(id);
            finishedHandoffs.push(id);
          }
        }
        written += (await recordOutcomes(db, batch, { workerId: WORKER, finishedHandoffs })).length;
      }
      writing = undefined;
    })();
    return writing;
  };
  const recorded = (record: AttemptRecord): void => {
    pending.push(record);
    if (writing) return;
    if (pending.length >= 500) void flush();
    else timer ??= setTimeout(flush, 2);
  };

  const key = benchKey();
  const start = performance.now();
  const publishing = (async () => {
    let batch = 0;
    const batches = Math.ceil(n / 100);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (batch < batches) {
          const b = batch++;
          const size = Math.min(100, n - b * 100);
          await publishEvents(
            db,
            tenantId,
            Array.from({ length: size }, (_, i) => ({
              type: 'invoice.created',
              data: invoiceData(b * 100 + i),
            })),
            { handoff },
          );
        }
      }),
    );
    published = true;
    wakeAll();
  })();
  let sent = 0;
  const senders = Array.from({ length: concurrency }, async () => {
    for (let d = await next(); d; d = await next()) {
      const startedAt = new Date();
      const t0 = performance.now();
      await signedPost(agent, url, key, sent++);
      // The attempt row as Herald writes one for a 200 (the standard profile's request headers).
      recorded({ ...success(d), startedAt, durationMs: Math.round(performance.now() - t0) });
    }
  });
  await publishing;
  await Promise.all(senders);
  await flush();
  const ms = performance.now() - start;
  await agent.close();
  // A loop that skipped its writes would read fast and mean nothing.
  if (written !== n) throw new Error(`durable loop: ${written} of ${n} outcomes written`);
  return ms;
}

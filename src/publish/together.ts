/**
 * Coalesced publishing: concurrent publish calls of one tenant, whose event ids Herald chose, are
 * written together — the tenant's kept candidates (candidate-cache.ts) or one read, and one
 * autocommitted statement for all of them — while
 * the tenant's previous statement runs. Idle, a call goes at once, alone; busy, calls queue for
 * about one statement's time and then share it (group commit, as a database does with its log).
 *
 * Why (docs/decisions.md, "Publishes coalesced per tenant"): each statement locks the rows of the
 * endpoints it fans out to until commit, to take gap-free sequence numbers. At hundreds of
 * single-event publishes a second to one endpoint, separate statements queued on that lock one
 * commit at a time, and each paid a read, a statement and a commit of its own. Coalesced, a
 * process keeps at most one publish statement per tenant in flight; each call keeps its own batch
 * id, its own deliveries (fan-out is planned per call: a batching profile never merges two calls'
 * events), its own validation (a call with bad data is refused alone) and its own answer. All are
 * committed before any answers.
 */

import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Db } from '../db/db.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import type { DeliveryHandoff, HandoffWanted } from '../queue/handoff.ts';
import { planDeliveries } from '../rules/fan-out.ts';
import { cachedCandidates, forgetCandidates, keepCandidates, typesToRead } from './candidate-cache.ts';
import { type Candidates, checkCall, eventRow, publishResult, readCandidates } from './candidates.ts';
import { checkDeliveriesPerCall, type DeliveryBudget } from './delivery-budget.ts';
import { handedOver, reserveHandoff } from './handoff-port.ts';
import { type InsertedDelivery, insertEventsAndDeliveries, type NewDelivery } from './publish-sql.ts';
import type { EventInput, PublishResult } from './types.ts';

/** At most this many calls share a statement... */
const MAX_CALLS = 200;
/** ... and at most about this many events (a call is never split). */
const MAX_EVENTS = 2_000;

interface Call {
  events: Array<EventInput & { id: string }>;
  handoff: DeliveryHandoff | undefined;
  budget: DeliveryBudget | undefined;
  resolve(result: PublishResult): void;
  reject(err: unknown): void;
}

interface TenantLine {
  waiting: Call[];
  running: boolean;
}

/** Per storage (a process may open several in tests), per tenant. */
const lines = new WeakMap<Db, Map<string, TenantLine>>();

/**
 * Publishes one call's events (ids all chosen by Herald, no Idempotency-Key, no target endpoint)
 * with whatever calls of the same tenant are waiting; resolves once all are committed.
 */
export function publishTogether(
  db: Db,
  tenantId: string,
  events: Array<EventInput & { id: string }>,
  handoff: DeliveryHandoff | undefined,
  budget?: DeliveryBudget,
): Promise<PublishResult> {
  let byTenant = lines.get(db);
  if (!byTenant) {
    byTenant = new Map();
    lines.set(db, byTenant);
  }
  let line = byTenant.get(tenantId);
  if (!line) {
    line = { waiting: [], running: false };
    byTenant.set(tenantId, line);
  }
  const queued = line;
  const tenants = byTenant;
  return new Promise<PublishResult>((resolve, reject) => {
    queued.waiting.push({ events, handoff, budget, resolve, reject });
    if (!queued.running) void drain(db, tenantId, queued, tenants);
  });
}

async function drain(db: Db, tenantId: string, line: TenantLine, tenants: Map<string, TenantLine>) {
  line.running = true;
  try {
    while (line.waiting.length > 0) {
      let events = 0;
      let n = 0;
      while (n < line.waiting.length && n < MAX_CALLS && (n === 0 || events < MAX_EVENTS)) {
        events += line.waiting[n]!.events.length;
        n++;
      }
      await writeTogether(db, tenantId, line.waiting.splice(0, n));
    }
  } finally {
    line.running = false;
    if (line.waiting.length === 0) tenants.delete(tenantId);
  }
}

/** Writes a batch of calls; settles every call, never throws. */
async function writeTogether(db: Db, tenantId: string, calls: Call[]): Promise<void> {
  const types = new Set<string>();
  for (const c of calls) for (const e of c.events) types.add(e.type);
  try {
    // Kept candidates first (candidate-cache.ts); when they are stale, or would refuse a call, read
    // afresh. A read's versions are checked too, but after two stale tries the write goes
    // unchecked: as current as any read-then-write.
    for (let attempt = 0; ; attempt++) {
      const kept = attempt === 0 ? cachedCandidates(db, tenantId, types) : undefined;
      let candidates = kept;
      if (!candidates) {
        const toRead = typesToRead(db, tenantId, types);
        candidates = await readCandidates(db, tenantId, null, toRead);
        keepCandidates(db, tenantId, toRead, candidates);
      }
      const outcome = await writeWith(db, tenantId, calls, candidates, {
        kept: kept !== undefined,
        check: attempt < 2,
      });
      if (outcome === 'done') return;
      forgetCandidates(db, tenantId);
    }
  } catch (err) {
    // The tenant was deleted between the read and the write.
    const refusal = (err as { code?: unknown }).code === '23503' ? new HeraldError('TENANT_NOT_FOUND') : err;
    // Settling a settled call does nothing: every call not answered yet gets the error.
    for (const c of calls) c.reject(refusal);
  }
}

/**
 * One try at writing the calls with `candidates`. 'stale', having settled nothing and written
 * nothing: kept candidates would refuse a call (make sure with a fresh read), or the statement
 * found the versions they were read at outdated.
 */
async function writeWith(
  db: Db,
  tenantId: string,
  calls: Call[],
  candidates: Candidates,
  opts: { kept: boolean; check: boolean },
): Promise<'done' | 'stale'> {
  // The calls of one process share its dispatcher's handoff.
  const handoff = calls[0]!.handoff;
  const accepted: Array<{ call: Call; batchId: string; planned: NewDelivery[] }> = [];
  const plans: Array<{ call: Call; planned: NewDelivery[] } | { call: Call; refusal: unknown }> = [];
  for (const call of calls) {
    try {
      checkCall(candidates, call.events);
      // Planned per call: sequence numbers follow the calls' order within the statement.
      const planned = planDeliveries(call.events, candidates.endpoints);
      checkDeliveriesPerCall(planned.length);
      plans.push({ call, planned });
    } catch (err) {
      if (opts.kept) return 'stale';
      plans.push({ call, refusal: err });
    }
  }
  for (const plan of plans) {
    if ('refusal' in plan) {
      plan.call.reject(plan.refusal);
      continue;
    }
    try {
      plan.call.budget?.take(tenantId, plan.planned.length);
    } catch (err) {
      plan.call.reject(err);
      continue;
    }
    accepted.push({ call: plan.call, batchId: newId('bat'), planned: plan.planned });
  }
  if (accepted.length === 0) return 'done';
  let reserved: HandoffWanted[] = [];
  let handed: ClaimedDelivery[] = [];
  let written = false;
  const byId = new Map(candidates.endpoints.map((e) => [e.id, e]));
  const planned = accepted.flatMap((a) => a.planned);
  // Serialised once: the insert's parameter, and the measure of what handing these over holds.
  const eventsJson = JSON.stringify(
    accepted.flatMap((a) => a.call.events.map((e) => eventRow(e, a.batchId))),
  );
  const bytes = eventsJson.length;
  try {
    reserved = reserveHandoff(tenantId, planned, byId, handoff, bytes, !opts.kept);
    const claimAs = handoff ? { workerId: handoff.workerId, now: handoff.queueNow() } : undefined;
    const { deliveries, stored, stale } = await insertEventsAndDeliveries(
      db,
      tenantId,
      eventsJson,
      accepted.flatMap((a) => a.call.events.map((e) => e.id)),
      planned,
      claimAs,
      opts.check ? candidates.versions : undefined,
    );
    if (stale) return 'stale';
    const events = new Map(accepted.flatMap((a) => a.call.events.map((e) => [e.id, e] as const)));
    handed = handedOver(tenantId, deliveries, byId, events, stored);
    written = true;
    const byDelivery = new Map<string, InsertedDelivery>(deliveries.map((d) => [d.id, d]));
    for (const a of accepted) {
      const own = a.planned.flatMap((d) => byDelivery.get(d.id) ?? []);
      a.call.resolve(publishResult(tenantId, a.batchId, a.call.events, stored, new Map(), own));
    }
    return 'done';
  } finally {
    // Handed over only once committed: a delivery not written must never be sent.
    if (handoff && (reserved.length > 0 || handed.length > 0))
      handoff.accept(written ? handed : [], reserved, bytes);
    // Not written (stale, to be tried again with what a fresh read plans, or failed): the budget
    // taken for it goes back, so a retry does not take it twice.
    if (!written) for (const a of accepted) a.call.budget?.giveBack(tenantId, a.planned.length);
  }
}

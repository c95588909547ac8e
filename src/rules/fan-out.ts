/**
 * Fan-out: which endpoints get which of one publish call's events, and how they are grouped into
 * deliveries. Pure, so the publish transaction only runs the inserts it decides on. An endpoint gets
 * an event when its event types match, the event's origin is not one it ignores, and its filter
 * (docs/filters.md) matches.
 */

import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { PROFILES } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { compileEventTypes } from './event-type-match.ts';
import { type Filter, filterCost, matchesFilter } from './filter.ts';

/** A delivery planned for one endpoint, before it is inserted (src/publish/publish-sql.ts). */
export interface NewDelivery {
  id: string;
  endpointId: string;
  eventIds: string[];
  eventType: string;
  fifo: boolean;
  /** Set: hand it over to the handoff's worker, under this lease (ms). */
  leaseMs?: number;
  /** Set with `leaseMs`: handed over to wait in its endpoint's backlog line (src/queue/handoff.ts). */
  heldBehind?: boolean;
}

/** Whether the profile's receivers take all of one publish call's events in one request. */
const batched = (profile: string) => PROFILES[profile as ProfileName]?.batched === true;

/** What fan-out needs of an endpoint (a row of `endpoints`). */
export interface FanOutEndpoint {
  id: string;
  event_types: string[];
  filter: Filter | null;
  ignore_origins: string[];
  ordering: string;
  profile: string;
}

export interface FanOutEvent {
  id: string;
  type: string;
  data: unknown;
  origin?: string | undefined;
}

/**
 * The most filter comparisons one publish call may cost (events × the filters' costs): matching runs
 * on the event loop every other tenant's calls share, so a tenant whose endpoints carry many costly
 * filters publishes in smaller calls (issue 16). 100 events × 1,000 endpoints × filters of 20
 * comparisons is 2,000,000.
 */
export const MAX_FILTER_WORK_PER_CALL = 2_000_000;

function tooMuchFilterWork(events: number, work: number): HeraldError {
  return new HeraldError(
    'LIMIT_EXCEEDED',
    `Matching these ${events} events against the tenant's endpoint filters takes more than ${MAX_FILTER_WORK_PER_CALL} comparisons (${work} so far); publish fewer events per call`,
    [{ path: 'events', message: `at most ${MAX_FILTER_WORK_PER_CALL} filter comparisons per call` }],
  );
}

/**
 * The deliveries a call's new events need: per endpoint, in event order. A `targeted` call (the
 * emulator) sends everything to its endpoints, whatever their types, filter and origin rules.
 *
 * @example planDeliveries([{ id: 'msg_1', type: 'invoice.paid', data: {} }], endpoints)
 */
export function planDeliveries(
  events: FanOutEvent[],
  endpoints: FanOutEndpoint[],
  opts: { targeted?: boolean } = {},
): NewDelivery[] {
  const planned: NewDelivery[] = [];
  // Filter comparisons this call may still make (counted before each endpoint's are made).
  let work = 0;
  for (const ep of endpoints) {
    const typeMatches = compileEventTypes(ep.event_types);
    const ignored = new Set(ep.ignore_origins);
    let matched = events;
    if (!opts.targeted) {
      matched = events.filter(
        (e) => typeMatches(e.type) && !(e.origin !== undefined && ignored.has(e.origin)),
      );
      if (ep.filter && matched.length > 0) {
        work += matched.length * filterCost(ep.filter);
        if (work > MAX_FILTER_WORK_PER_CALL) throw tooMuchFilterWork(events.length, work);
        matched = matched.filter((e) =>
          matchesFilter(ep.filter, { type: e.type, data: e.data, origin: e.origin ?? null }),
        );
      }
    }
    if (matched.length === 0) continue;
    const fifo = ep.ordering === 'fifo';
    if (batched(ep.profile)) {
      planned.push({
        id: newId('dlv'),
        endpointId: ep.id,
        eventIds: matched.map((e) => e.id),
        eventType: matched[0]!.type,
        fifo,
      });
    } else {
      for (const e of matched) {
        planned.push({ id: newId('dlv'), endpointId: ep.id, eventIds: [e.id], eventType: e.type, fifo });
      }
    }
  }
  return planned;
}

/**
 * Fan-out: which endpoints get which of one publish call's events, and how they are grouped into
 * deliveries. Pure, so the publish transaction only runs the inserts it decides on. An endpoint gets
 * an event when its event types match, the event's origin is not one it ignores, and its filter
 * (docs/filters.md) matches.
 */

import { newId } from '../core/ids.ts';
import { PROFILES } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { compileEventTypes } from './event-type-match.ts';
import { type Filter, matchesFilter } from './filter.ts';

/** A delivery planned for one endpoint, before it is inserted (src/publish/publish-sql.ts). */
export interface NewDelivery {
  id: string;
  endpointId: string;
  eventIds: string[];
  eventType: string;
  fifo: boolean;
  /** Set: insert it claimed by the handoff's worker, with this lease (ms). */
  leaseMs?: number;
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
  for (const ep of endpoints) {
    const typeMatches = compileEventTypes(ep.event_types);
    const ignored = new Set(ep.ignore_origins);
    const matched = opts.targeted
      ? events
      : events.filter(
          (e) =>
            typeMatches(e.type) &&
            !(e.origin !== undefined && ignored.has(e.origin)) &&
            matchesFilter(ep.filter, { type: e.type, data: e.data, origin: e.origin ?? null }),
        );
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

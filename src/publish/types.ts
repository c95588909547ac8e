/** What a publish call takes and answers (src/publish/publish-events.ts and the modules it uses). */
import type { HeraldEvent } from '../store/events.ts';

export interface EventInput {
  id?: string;
  type: string;
  data: unknown;
  origin?: string;
  occurredAt?: string;
}

/**
 * An event of a call as publishing handles it: its id chosen, and the call's W3C trace context in
 * its stored form (src/tracing/trace-context.ts) when there is one — written with the event, so
 * every attempt of its deliveries joins the publish's trace.
 */
export type PublishedEvent = EventInput & { id: string; traceContext?: string };

export interface PublishResult {
  /** In the order of the call; a repeated id answers with the event first published under it. */
  events: HeraldEvent[];
  /** True when the call created nothing: every event (or the whole call, by key) was a repeat. */
  replayed: boolean;
  /** The deliveries this call created. */
  deliveries: Array<{ id: string; endpointId: string; eventIds: string[]; sequence: number }>;
}

/**
 * What a candidates read saw (src/publish/candidate-cache.ts): the tenant's endpoints version and
 * the event-type catalog's, both int8 as text; the publish statement writes only while they hold.
 */
export interface CandidateVersions {
  endpoints: string;
  catalog: string;
}

/**
 * A handed-over delivery has no row until its outcome is recorded (src/queue/handoff.ts): what
 * writing that row needs, carried from publishing through the dispatcher to the record or release.
 */
export interface HandedOverRow {
  /** The `handoffs` row standing in for the delivery's row until it is written. */
  handoffId: string;
  endpointId: string;
  eventIds: string[];
  eventType: string;
  sequence: number;
  /** When it was published (its row's `created_at`), epoch milliseconds. */
  createdMs: number;
}

/** The fields of a recording or release statement's JSON rows that write a handed-over delivery's row. */
export function handedOverFields(h: HandedOverRow | undefined) {
  return h === undefined
    ? undefined
    : {
        handoff_id: h.handoffId,
        event_ids: h.eventIds,
        event_type: h.eventType,
        sequence: h.sequence,
        created_ms: h.createdMs,
      };
}

/**
 * CTE `live`: the endpoints of the handed-over rows a statement writes (`endpointIds`: a query of
 * their ids, one column), key-share locked in id order. Deliveries have no foreign key (migration
 * 006): a deletion of one of these endpoints (src/store/endpoint-removal.ts) either committed
 * first, and its rows are not written, or waits for the statement and deletes them in its second
 * pass — no row outlives its endpoint. Publishing's lock on the same rows (NO KEY UPDATE) does not
 * block it.
 */
export const liveEndpointsCte = (endpointIds: string) => `live AS MATERIALIZED (
  SELECT ep.id FROM endpoints ep
  JOIN (${endpointIds}) w(endpoint_id) ON w.endpoint_id = ep.id
  ORDER BY ep.id
  FOR KEY SHARE OF ep
)`;

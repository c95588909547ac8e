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

/**
 * What publishing reads before it writes, and how it answers: the tenant's candidate endpoints with
 * the schemas of the event types published (one read), the schema check, and the result of a call.
 * Shared by the single call's path (publish-events.ts) and the coalesced one (together.ts).
 */

import { HeraldError } from '../core/errors.ts';
import { isoOrNull } from '../core/iso.ts';
import { type Db, prepared } from '../db/db.ts';
import { type EventTypeSchema, validateEventData } from '../event-types/validate-event-data.ts';
import { ENDPOINT_CONFIG_COLUMNS, type EndpointConfigRow } from '../queue/claimed-delivery.ts';
import type { FanOutEndpoint } from '../rules/fan-out.ts';
import type { HeraldEvent } from '../store/events.ts';
import type { InsertedDelivery, NewEventRow, StoredTimes } from './publish-sql.ts';
import type { CandidateVersions, EventInput, PublishedEvent, PublishResult } from './types.ts';

/** An endpoint publishing may fan out to: what matching, planning and handing over need. */
export type Candidate = FanOutEndpoint &
  EndpointConfigRow & { active: boolean; concurrency_limit: number | null; circuit_open: boolean };

// One read before the write: the tenant's candidate endpoints, and — on the first row only — the
// schemas of the event types published. A row comes back even for a missing tenant (tenant NULL),
// so a missing tenant is told apart from one without endpoints and bad data is still refused
// first. A disabled endpoint (410, failing too long) has `active = false`, with the reason beside it.
const CANDIDATES_SQL = prepared(
  'herald_publish_candidates',
  `SELECT t.id AS tenant, t.endpoints_version::text AS endpoints_version,
     (SELECT version::text FROM catalog_version) AS catalog_version, e.id, e.event_types, e.filter, e.ignore_origins, e.ordering, e.active,
     e.concurrency_limit, e.circuit_state = 'open' AS circuit_open,
     ${ENDPOINT_CONFIG_COLUMNS},
     CASE WHEN row_number() OVER () = 1 THEN (
       SELECT coalesce(json_agg(json_build_object('name', x.name, 'schema', x.schema,
         'c', floor(extract(epoch FROM x.created_at) * 1000),
         'u', floor(extract(epoch FROM x.updated_at) * 1000))), '[]')
       FROM event_types x WHERE x.name = ANY($3::text[]) AND x.schema IS NOT NULL) END AS schemas
   FROM (SELECT 1) AS one
   LEFT JOIN tenants t ON t.id = $1
   LEFT JOIN endpoints e ON e.tenant_id = t.id
     AND CASE WHEN $2::text IS NULL THEN e.active ELSE e.id = $2 END`,
);

type CandidateRow = {
  tenant: string | null;
  endpoints_version: string | null;
  catalog_version: string;
  schemas: SchemaRow[] | null;
} & ({ id: null } | Candidate);
interface SchemaRow {
  name: string;
  schema: Record<string, unknown> | null;
  c: number;
  u: number;
}

export interface Candidates {
  /** False: the tenant does not exist. */
  tenantFound: boolean;
  endpoints: Candidate[];
  /** The published types' schemas (types without one, or unknown, are absent). */
  schemas: Map<string, EventTypeSchema>;
  /** What this read saw, for the publish statement to check (candidate-cache.ts); none: no tenant. */
  versions?: CandidateVersions;
}

/**
 * The tenant's active endpoints (or only `endpointId`, active or not) and the schemas of `types`.
 *
 * @example const { endpoints } = await readCandidates(db, 'acme', null, ['invoice.paid'])
 */
export async function readCandidates(
  db: Db,
  tenantId: string,
  endpointId: string | null,
  types: string[],
): Promise<Candidates> {
  const rows = await db.query<CandidateRow>(CANDIDATES_SQL, [tenantId, endpointId, types]);
  const schemas = new Map<string, EventTypeSchema>(
    (rows[0]?.schemas ?? []).map((r) => [
      r.name,
      {
        name: r.name,
        schema: r.schema,
        createdAt: new Date(r.c).toISOString(),
        updatedAt: new Date(r.u).toISOString(),
      },
    ]),
  );
  const first = rows[0];
  return {
    tenantFound: Boolean(first?.tenant),
    endpoints: rows.filter((c): c is CandidateRow & Candidate => c.id !== null),
    schemas,
    ...(first?.tenant && first.endpoints_version !== null
      ? { versions: { endpoints: first.endpoints_version, catalog: first.catalog_version } }
      : {}),
  };
}

/**
 * Refuses a call whose data does not match its event type's schema (unknown types are allowed),
 * then one to a tenant that does not exist: bad data is refused first.
 */
export function checkCall(candidates: Candidates, events: EventInput[]): void {
  events.forEach((e, i) => {
    const type = candidates.schemas.get(e.type);
    if (type) validateEventData(type, e.data, `events.${i}.data`);
  });
  if (!candidates.tenantFound) throw new HeraldError('TENANT_NOT_FOUND');
}

export function eventRow(e: PublishedEvent, batchId: string): NewEventRow {
  const row: NewEventRow = {
    id: e.id,
    type: e.type,
    data: e.data,
    origin: e.origin ?? null,
    occurred_at: e.occurredAt ?? null,
    batch_id: batchId,
  };
  // Absent unless traced: an untraced publish's parameter stays as it was.
  if (e.traceContext !== undefined) row.trace_context = e.traceContext;
  return row;
}

/** A call's answer: its events as stored (or as first published, for repeats) and its deliveries. */
export function publishResult(
  tenantId: string,
  batchId: string,
  events: Array<EventInput & { id: string }>,
  stored: StoredTimes,
  repeats: Map<string, HeraldEvent>,
  deliveries: InsertedDelivery[],
): PublishResult {
  return {
    events: events.map(
      (e): HeraldEvent =>
        repeats.get(e.id) ?? {
          id: e.id,
          tenantId,
          type: e.type,
          data: e.data,
          origin: e.origin ?? null,
          // As stored: PostgreSQL normalises what it was given (a leap second, an offset).
          occurredAt: isoOrNull(stored.get(e.id)!.occurred_at ?? null),
          createdAt: stored.get(e.id)!.created_at.toISOString(),
          batchId,
        },
    ),
    replayed: stored.size === 0,
    deliveries: deliveries.map((d) => ({
      id: d.id,
      endpointId: d.endpointId,
      eventIds: d.eventIds,
      sequence: d.sequence,
    })),
  };
}

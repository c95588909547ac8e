/**
 * The event type catalog: global (not per tenant), keyed by name. `schema` and `example` are kept
 * as written (json, not jsonb: see migration 003). Validation of the definition is the caller's
 * (src/event-types/definition.ts); this module only stores it.
 */

import { HeraldError } from '../core/errors.ts';
import { one, type Queryable } from '../db/db.ts';

export interface EventType {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  example: unknown;
  createdAt: string;
  updatedAt: string;
}

/** The parts of an event type its owner writes; null means "none". */
export interface EventTypeDefinition {
  description: string | null;
  schema: Record<string, unknown> | null;
  example: unknown;
}

interface EventTypeRow {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  example: unknown;
  created_at: Date;
  updated_at: Date;
}

const toEventType = (r: EventTypeRow): EventType => ({
  name: r.name,
  description: r.description,
  schema: r.schema,
  example: r.example,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/**
 * JSON text for a json parameter, or SQL NULL. Always serialised here: the drivers would send a JS
 * array as a PostgreSQL array and a string as bare text, neither of which is JSON.
 */
const jsonParam = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);

export async function createEventType(
  q: Queryable,
  input: EventTypeDefinition & { name: string },
): Promise<EventType> {
  const row = await one<EventTypeRow>(
    q,
    `INSERT INTO event_types (name, description, schema, example) VALUES ($1, $2, $3::json, $4::json)
     ON CONFLICT (name) DO NOTHING RETURNING *`,
    [input.name, input.description, jsonParam(input.schema), jsonParam(input.example)],
  );
  if (!row) throw new HeraldError('EVENT_TYPE_EXISTS', `An event type named "${input.name}" already exists`);
  return toEventType(row);
}

/** The event type, or undefined. `forUpdate` locks the row until the transaction ends. */
export async function findEventType(
  q: Queryable,
  name: string,
  opts: { forUpdate?: boolean } = {},
): Promise<EventType | undefined> {
  const row = await one<EventTypeRow>(
    q,
    `SELECT * FROM event_types WHERE name = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return row ? toEventType(row) : undefined;
}

export async function getEventType(
  q: Queryable,
  name: string,
  opts: { forUpdate?: boolean } = {},
): Promise<EventType> {
  const found = await findEventType(q, name, opts);
  if (!found) throw new HeraldError('EVENT_TYPE_NOT_FOUND', `No event type named "${name}"`);
  return found;
}

/**
 * A page of the catalog in name order (bytewise, the same on every server locale), after `after`.
 */
export async function listEventTypes(
  q: Queryable,
  opts: { after?: string; limit: number },
): Promise<EventType[]> {
  const rows = await q.query<EventTypeRow>(
    `SELECT * FROM event_types WHERE ($1::text IS NULL OR name COLLATE "C" > $1)
     ORDER BY name COLLATE "C" LIMIT $2`,
    [opts.after ?? null, opts.limit],
  );
  return rows.map(toEventType);
}

/**
 * Replaces the definition. `updated_at` moves forward by at least a millisecond on every update, so
 * (name, createdAt, updatedAt) names one version — the key of the compiled-validator cache.
 */
export async function updateEventType(
  q: Queryable,
  name: string,
  def: EventTypeDefinition,
): Promise<EventType> {
  const row = await one<EventTypeRow>(
    q,
    `UPDATE event_types
     SET description = $2, schema = $3::json, example = $4::json,
         updated_at = GREATEST(now(), updated_at + interval '1 millisecond')
     WHERE name = $1 RETURNING *`,
    [name, def.description, jsonParam(def.schema), jsonParam(def.example)],
  );
  if (!row) throw new HeraldError('EVENT_TYPE_NOT_FOUND', `No event type named "${name}"`);
  return toEventType(row);
}

export async function deleteEventType(q: Queryable, name: string): Promise<void> {
  const rows = await q.query('DELETE FROM event_types WHERE name = $1 RETURNING name', [name]);
  if (rows.length === 0) throw new HeraldError('EVENT_TYPE_NOT_FOUND', `No event type named "${name}"`);
}

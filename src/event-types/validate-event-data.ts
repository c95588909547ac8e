/**
 * Checks event data against its event type's schema, as publishing does for every event. Compiled
 * validators are cached per version of an event type — name, createdAt and updatedAt, which moves on
 * every update (src/store/event-types.ts) — so each process compiles a schema once per change.
 */
import type { ValidateFunction } from 'ajv';
import { type ErrorDetail, HeraldError } from '../core/errors.ts';
import { compileUserSchema, dataErrors } from './user-schema.ts';

/** What validation needs of an event type (an `EventType` from the store fits). */
export interface EventTypeSchema {
  name: string;
  schema: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

const CACHE_MAX = 500;
const cache = new Map<string, ValidateFunction>();

function validatorFor(eventType: EventTypeSchema & { schema: Record<string, unknown> }): ValidateFunction {
  const key = `${eventType.name}\u0000${eventType.createdAt}\u0000${eventType.updatedAt}`;
  let validate = cache.get(key);
  if (validate) {
    // Least recently used goes first: re-insert to move this one to the end.
    cache.delete(key);
  } else {
    validate = compileUserSchema(eventType.schema, `eventTypes.${eventType.name}.schema`);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, validate);
  return validate;
}

/**
 * The reasons `data` does not match the event type's schema, under `path`; empty when it matches
 * or the type has no schema.
 *
 * @example eventDataErrors(type, body.events[3].data, 'events.3.data')
 */
export function eventDataErrors(eventType: EventTypeSchema, data: unknown, path = 'data'): ErrorDetail[] {
  if (eventType.schema === null) return [];
  return dataErrors(validatorFor({ ...eventType, schema: eventType.schema }), data, path);
}

/**
 * Throws DATA_SCHEMA_MISMATCH (400, with details) unless `data` matches the event type's schema.
 *
 * @example validateEventData(await getEventType(db, 'invoice.created'), req.body.data)
 */
export function validateEventData(eventType: EventTypeSchema, data: unknown, path = 'data'): void {
  const details = eventDataErrors(eventType, data, path);
  if (details.length > 0) {
    throw new HeraldError(
      'DATA_SCHEMA_MISMATCH',
      `${details[0]!.path}: ${details[0]!.message} (event type ${eventType.name})`,
      details,
    );
  }
}

/** For tests: how many compiled validators are cached. */
export function cachedValidatorCount(): number {
  return cache.size;
}

/**
 * The event types an endpoint subscribes to, as the API accepts them: an array of names and
 * patterns, or one comma-separated string (ShipStream's "topics"). A pattern is an event type name,
 * `*` (every type), or a prefix ending in `*` (`invoice.*`); src/rules/event-type-match.ts
 * decides what they match.
 */
import { invalid } from '../core/errors.ts';

export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_.:*-]{1,128}$';
const PATTERN_RE = new RegExp(EVENT_TYPE_PATTERN);

export const MAX_EVENT_TYPE_PATTERNS = 200;

/** What "every event type" is stored as. */
export const ALL_EVENT_TYPES: readonly string[] = ['*'];

/**
 * Normalises `eventTypes` to a list of distinct patterns; absent or null means every type. Refuses
 * (VALIDATION_FAILED, naming the entry) anything that is not a name or a trailing-`*` pattern.
 *
 * @example parseEventTypes('invoice.*, customer.created') // ['invoice.*', 'customer.created']
 */
export function parseEventTypes(value: string | readonly string[] | null | undefined): string[] {
  if (value === undefined || value === null) return [...ALL_EVENT_TYPES];
  const fromString = typeof value === 'string';
  const items = fromString ? value.split(',').map((s) => s.trim()) : [...value];
  const patterns = new Set<string>();
  items.forEach((item, i) => {
    const path = fromString ? 'eventTypes' : `eventTypes.${i}`;
    if (fromString && item === '') return; // "a,,b" and a trailing comma are harmless
    if (!PATTERN_RE.test(item)) {
      throw invalid(
        path,
        `"${item.slice(0, 140)}" is not an event type name or pattern (${EVENT_TYPE_PATTERN})`,
      );
    }
    if (item.indexOf('*') !== -1 && item.indexOf('*') !== item.length - 1) {
      throw invalid(path, `"${item}": a wildcard * may only end a pattern, as in invoice.*`);
    }
    patterns.add(item);
    if (patterns.size > MAX_EVENT_TYPE_PATTERNS) {
      throw invalid('eventTypes', `has more than ${MAX_EVENT_TYPE_PATTERNS} distinct entries`);
    }
  });
  if (patterns.size === 0) {
    throw invalid('eventTypes', 'names no event type; omit it, or use ["*"], to receive every type');
  }
  return patterns.has('*') ? [...ALL_EVENT_TYPES] : [...patterns];
}

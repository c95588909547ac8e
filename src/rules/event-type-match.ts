/**
 * Which event types an endpoint subscribes to. A pattern is `*` (every type), a prefix wildcard
 * ending in `*` (`invoice.*` matches `invoice.created` and `invoice.line.added`, not `invoice`), or
 * an exact, case-sensitive name. No patterns at all also means every type, as in Svix.
 */

/** A compiled set of patterns: decide once per endpoint, then test many events cheaply. */
export type EventTypeMatcher = (type: string) => boolean;

const matchAll: EventTypeMatcher = () => true;

/**
 * @example compileEventTypes(['invoice.*', 'customer.created'])('invoice.paid') // true
 */
export function compileEventTypes(patterns: readonly string[] | null | undefined): EventTypeMatcher {
  if (!patterns || patterns.length === 0 || patterns.includes('*')) return matchAll;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  if (prefixes.length === 0) return (type) => exact.has(type);
  return (type) => exact.has(type) || prefixes.some((prefix) => type.startsWith(prefix));
}

/** @example matchesEventType(['invoice.*'], 'invoice.created') // true */
export function matchesEventType(patterns: readonly string[] | null | undefined, type: string): boolean {
  return compileEventTypes(patterns)(type);
}

/**
 * What an operational endpoint (the operator's webhook for Herald's own events,
 * `/v1/operational-endpoints`) must be beyond any endpoint: signed the Standard Webhooks way (the
 * `standard` profile), and subscribed only to Herald's own event types, each pattern matching at
 * least one of them — a pattern that matches none is a mistake the operator should hear of now, not
 * a webhook that never comes. Checked before the usual validation (src/endpoints/endpoint-validation.ts).
 */
import { invalid } from '../core/errors.ts';
import { OPERATIONAL_EVENT_TYPE_NAMES } from '../event-types/operational-event-types.ts';
import { matchesEventType } from '../rules/event-type-match.ts';
import { parseEventTypes } from './event-type-patterns.ts';

/**
 * Refuses (VALIDATION_FAILED, naming the field) a create or update of an operational endpoint that
 * names another profile or an event type pattern no operational event type matches.
 *
 * @example checkOperationalEndpoint({ eventTypes: ['endpoint.*'] }) // passes
 */
export function checkOperationalEndpoint(input: {
  profile?: string | undefined;
  eventTypes?: string | readonly string[] | null | undefined;
}): void {
  if (input.profile !== undefined && input.profile !== 'standard') {
    throw invalid(
      'profile',
      'operational webhooks are sent with the standard profile (Standard Webhooks) only',
    );
  }
  if (input.eventTypes === undefined || input.eventTypes === null) return;
  const patterns = parseEventTypes(input.eventTypes);
  const fromString = typeof input.eventTypes === 'string';
  const given = fromString ? patterns : [...(input.eventTypes as readonly string[])];
  given.forEach((pattern, i) => {
    if (!OPERATIONAL_EVENT_TYPE_NAMES.some((name) => matchesEventType([pattern], name))) {
      throw invalid(
        fromString ? 'eventTypes' : `eventTypes.${i}`,
        `"${pattern.slice(0, 140)}" matches none of Herald's operational event types (${OPERATIONAL_EVENT_TYPE_NAMES.join(', ')})`,
      );
    }
  });
}

/**
 * The request body of a delivery, rebuilt: attempts keep their request headers but not the body, so
 * the body is rendered again from the stored events through the endpoint's profile — the same pure
 * function the dispatcher runs (src/delivery/deliver-one.ts). That is byte for byte what was sent
 * unless something it depends on changed; each such case is said in `notes` and clears `exact`:
 * a payload purged by retention (no body), an endpoint edited since the first attempt (its profile or
 * options may have been others), a format that stamps the time of sending into the body (rebuilt
 * with the attempt's start time, which the sent body carried to the second, rarely the next one).
 */
import type { Clock } from '../core/clock.ts';
import type { Queryable } from '../db/db.ts';
import { PROFILES } from '../profiles/index.ts';
import type { Profile, ProfileEvent } from '../profiles/profile.ts';
import { notFoundUnder } from './deliveries.ts';

export interface DeliveryBody {
  /** The body, or null when it cannot be rebuilt (see notes). */
  body: string | null;
  /** The content type the profile sends it with. */
  contentType: string | null;
  /** True when `body` is exactly what was sent (or, before any attempt, what the first will send). */
  exact: boolean;
  /** The attempt whose body this is; null before the first attempt. */
  attemptNumber: number | null;
  /** Why the body is not exact or cannot be shown, or that nothing was sent yet. */
  notes: string[];
}

interface Row {
  endpoint_id: string;
  sequence: number;
  event_ids: string[];
  profile: string | null;
  profile_options: Record<string, unknown> | null;
  endpoint_updated_at: Date | null;
  first_attempt_at: Date | null;
  last_attempt_number: number | null;
  last_attempt_at: Date | null;
}

interface EventRow {
  id: string;
  type: string;
  data: unknown;
  occurred_at: Date | null;
  created_at: Date;
}

// The body never depends on the signing secret (only signature headers do), so the API renders with
// a placeholder and never opens an endpoint's secret for this.
const NO_SECRETS = { current: 'whsec_' };
const DAY_MS = 86_400_000;

/** The body of delivery `id` of the tenant, rebuilt; DELIVERY_NOT_FOUND (or TENANT_NOT_FOUND). */
export async function deliveryBody(
  q: Queryable,
  tenantId: string,
  id: string,
  clock: Clock,
): Promise<DeliveryBody> {
  const [row] = await q.query<Row>(
    `SELECT d.endpoint_id, d.sequence, d.event_ids, e.profile, e.profile_options,
       e.updated_at AS endpoint_updated_at,
       (SELECT min(a.started_at) FROM attempts a WHERE a.delivery_id = d.id) AS first_attempt_at,
       l.attempt_number AS last_attempt_number, l.started_at AS last_attempt_at
     FROM all_deliveries d
     LEFT JOIN endpoints e ON e.id = d.endpoint_id AND e.tenant_id = d.tenant_id
     LEFT JOIN LATERAL (
       SELECT a.attempt_number, a.started_at FROM attempts a WHERE a.delivery_id = d.id
       ORDER BY a.attempt_number DESC, a.started_at DESC LIMIT 1) l ON true
     WHERE d.tenant_id = $1 AND d.id = $2`,
    [tenantId, id],
  );
  if (!row) return notFoundUnder(q, tenantId, 'DELIVERY_NOT_FOUND');
  const attemptNumber = row.last_attempt_number;
  const none = (note: string): DeliveryBody => ({
    body: null,
    contentType: null,
    exact: false,
    attemptNumber,
    notes: [note],
  });

  if (!row.profile) return none('The endpoint no longer exists, so its wire format is unknown.');
  const profile: Profile | undefined = Object.hasOwn(PROFILES, row.profile)
    ? PROFILES[row.profile as keyof typeof PROFILES]
    : undefined;
  if (!profile) return none(`The endpoint's profile "${row.profile}" is not available in this version.`);

  const found = await q.query<EventRow>(
    'SELECT id, type, data, occurred_at, created_at FROM events WHERE tenant_id = $1 AND id = ANY($2::text[])',
    [tenantId, row.event_ids],
  );
  const byId = new Map(found.map((e) => [e.id, e]));
  const events: ProfileEvent[] = [];
  for (const eventId of row.event_ids) {
    const e = byId.get(eventId);
    if (!e || e.data === null) {
      return none(`The payload of event ${eventId} was purged after the retention period.`);
    }
    events.push({ id: e.id, type: e.type, data: e.data, occurredAt: e.occurred_at, createdAt: e.created_at });
  }

  const at = row.last_attempt_at ?? clock.now();
  const render = (time: Date) =>
    profile.render({
      endpoint: { id: row.endpoint_id, options: row.profile_options ?? {}, secrets: NO_SECRETS },
      sequence: row.sequence,
      attempt: attemptNumber ?? 1,
      events,
      clock: { now: () => time },
    });
  let rendered: ReturnType<Profile['render']>;
  let later: ReturnType<Profile['render']>;
  try {
    rendered = render(at);
    later = render(new Date(at.getTime() + DAY_MS));
  } catch (err) {
    return none(`The body cannot be rendered: ${err instanceof Error ? err.message : String(err)}`);
  }
  const body = typeof rendered.body === 'string' ? rendered.body : rendered.body.toString('utf8');
  const laterBody = typeof later.body === 'string' ? later.body : later.body.toString('utf8');

  const notes: string[] = [];
  let exact = true;
  if (attemptNumber === null) notes.push('Not sent yet: this is the body its first attempt will carry.');
  // Any change counts (the settings, the secret, a disable): the row does not say which.
  if (row.first_attempt_at && row.endpoint_updated_at && row.endpoint_updated_at > row.first_attempt_at) {
    exact = false;
    notes.push(
      'The endpoint was changed after this delivery was first sent; the body is rendered with its ' +
        'current profile and options, which may differ from those it was sent with.',
    );
  }
  // Rendering a day later gives other bytes: the format puts the time of sending into the body.
  if (body !== laterBody) {
    exact = false;
    notes.push(
      `The ${profile.label} format puts the time of sending into the body. Shown with ` +
        (attemptNumber === null
          ? 'the time now; each attempt carries its own.'
          : `attempt ${attemptNumber}'s start time, which the body sent carried to the second (rarely, ` +
            'the second after); each attempt carries its own.'),
    );
  }
  return { body, contentType: rendered.headers['content-type'] ?? null, exact, attemptNumber, notes };
}

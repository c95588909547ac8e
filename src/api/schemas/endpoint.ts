/**
 * Schemas of endpoints: what a create or update may send, and what the API answers. The schemas
 * check shapes and ranges; rules that need more than a shape (URLs, headers, profiles, event type
 * patterns, filters) are checked in src/endpoints/.
 */
import { Type } from 'typebox';
import { EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_PATTERNS } from '../../endpoints/event-type-patterns.ts';
import { PROFILE_NAMES } from '../../profiles/profile-names.ts';
import { MAX_ATTEMPT_TIMEOUT_MS } from '../../rules/attempt-budget.ts';
import { PageQuery } from '../pagination.ts';
import { DisplayName, Metadata, Nullable, Timestamp } from './common.ts';

export { EndpointParams } from './event.ts';

export const MAX_RETRY_DELAY_SECONDS = 7 * 86400;

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'http(s) URL, at most 2048 bytes, without credentials',
});

const Name = DisplayName;
const Description = Type.String({ maxLength: 4096 });

const EventTypesIn = Type.Union(
  [
    Type.Array(Type.String({ maxLength: 128 }), { maxItems: MAX_EVENT_TYPE_PATTERNS }),
    Type.String({ maxLength: MAX_EVENT_TYPE_PATTERNS * 130 }),
  ],
  {
    description:
      `event type names or patterns (${EVENT_TYPE_PATTERN}; \`*\` only at the end, as in \`invoice.*\`), ` +
      'as an array or a comma-separated string; absent, null or ["*"] = every type',
  },
);

const Headers = Type.Record(Type.String(), Type.String(), {
  description:
    'extra request headers (at most 50, values ≤ 4096 characters); names Herald sets itself are refused',
});

const Profile = Type.String({
  minLength: 1,
  maxLength: 64,
  description: `wire format: ${PROFILE_NAMES.join(', ')}`,
});

const ProfileOptions = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  maxProperties: 32,
  description: "profile settings, e.g. Courier Invoice's `accountNumber`",
});

const AuthIn = Type.Union(
  [
    Type.Object(
      { type: Type.Literal('bearer'), token: Type.String({ minLength: 1, maxLength: 4096 }) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('basic'),
        username: Type.String({ minLength: 1, maxLength: 256 }),
        password: Type.String({ maxLength: 1024 }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('oauth2'),
        tokenUrl: Type.String({ minLength: 1, maxLength: 2048 }),
        clientId: Type.String({ minLength: 1, maxLength: 256 }),
        clientSecret: Type.String({ minLength: 1, maxLength: 1024 }),
        scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'credentials sent with every request; stored encrypted, never shown again' },
);

const RetrySchedule = Type.Array(Type.Integer({ minimum: 0, maximum: MAX_RETRY_DELAY_SECONDS }), {
  maxItems: 100,
  description:
    'seconds to wait before each retry: the first attempt is immediate, then one retry per entry — `[2, 5]` is 3 attempts (now, +2 s, +5 s), `[]` only the first; null = the profile default',
});

const TimeoutsIn = Type.Object(
  {
    connectMs: Type.Integer({ minimum: 1, maximum: 60_000, description: 'at most totalMs' }),
    totalMs: Type.Integer({
      minimum: 1,
      maximum: MAX_ATTEMPT_TIMEOUT_MS,
      description:
        `the whole attempt, OAuth 2 token fetch included, at most ${MAX_ATTEMPT_TIMEOUT_MS} ms; ` +
        'null timeouts = the profile default, else 3 s connect / 15 s total',
    }),
  },
  { additionalProperties: false },
);

const RateLimitIn = Type.Object(
  { perSecond: Type.Integer({ minimum: 1, maximum: 10_000 }) },
  { additionalProperties: false },
);

const Ordering = Type.Union([Type.Literal('none'), Type.Literal('fifo')], {
  description: '`fifo` sends one delivery at a time, in sequence order',
});

const Filter = Type.Record(Type.String(), Type.Unknown(), {
  description: 'payload filter (docs/filters.md); null = every event of the subscribed types',
});

// As long as an event's origin may be (Origin in event.ts), so any origin can be ignored.
const IgnoreOrigins = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  maxItems: 50,
  description: 'origins whose events this endpoint must not get',
});

const ForwardTraceparent = Type.Boolean({
  description:
    'send each attempt the W3C `traceparent` (and `tracestate`) of its trace, so the receiver can continue ' +
    'the trace of the publish (docs/operations.md, "Tracing"); headers only, the signed bytes are unchanged. ' +
    "The endpoint's `headers` may then not set those two. Default false",
});

export const SignatureSchemeIn = Type.Union([Type.Literal('hmac-sha256'), Type.Literal('ed25519')], {
  description:
    'how the standard profile signs: `hmac-sha256` (`v1,`, a `whsec_` secret; the default) or `ed25519` ' +
    "(Standard Webhooks' asymmetric `v1a,`, a `whsk_` secret key whose `whpk_` public key receivers verify with). " +
    'Selects the kind of key Herald generates; a given `secret` decides by its prefix',
});

/** Fields a create and an update share; every one of them optional. */
const EndpointFieldsIn = {
  name: Type.Optional(Nullable(Name)),
  description: Type.Optional(Nullable(Description)),
  eventTypes: Type.Optional(Nullable(EventTypesIn)),
  active: Type.Optional(Type.Boolean()),
  headers: Type.Optional(Headers),
  profile: Type.Optional(Profile),
  profileOptions: Type.Optional(ProfileOptions),
  auth: Type.Optional(Nullable(AuthIn)),
  retrySchedule: Type.Optional(Nullable(RetrySchedule)),
  timeouts: Type.Optional(Nullable(TimeoutsIn)),
  rateLimit: Type.Optional(Nullable(RateLimitIn)),
  ordering: Type.Optional(Ordering),
  filter: Type.Optional(Nullable(Filter)),
  ignoreOrigins: Type.Optional(IgnoreOrigins),
  metadata: Type.Optional(Metadata),
  forwardTraceparent: Type.Optional(ForwardTraceparent),
};

export const EndpointCreateBody = Type.Object(
  {
    url: Url,
    secret: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 256,
        description:
          'signing secret; generated (`whsec_` + base64 of 32 bytes, or a `whsk_` Ed25519 key for ' +
          '`signatureScheme: "ed25519"`) when absent. A `whsk_` key (base64 of its 32-byte seed) makes a ' +
          'standard endpoint sign with Ed25519',
      }),
    ),
    signatureScheme: Type.Optional(SignatureSchemeIn),
    ...EndpointFieldsIn,
  },
  { additionalProperties: false },
);

export const EndpointPatchBody = Type.Object(
  { url: Type.Optional(Url), ...EndpointFieldsIn },
  {
    additionalProperties: false,
    description: 'fields to change; null clears a nullable field. The secret changes through rotate-secret.',
  },
);

const AuthOut = Type.Object(
  {
    type: Type.Union([Type.Literal('bearer'), Type.Literal('basic'), Type.Literal('oauth2')]),
    username: Type.Optional(Type.String()),
    tokenUrl: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    scope: Type.Optional(Nullable(Type.String())),
  },
  { description: 'the auth without its secrets' },
);

/** The circuit breaker and the adaptive limit, kept by Herald (docs/isolation.md); never written by a client. */
export const EndpointHealthOut = Type.Object(
  {
    circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')], {
      description:
        '`open`: after consecutive failures, deliveries wait without spending attempts until ' +
        '`circuitUntil`; `half_open`: the cool-down is over and the next request is a probe whose ' +
        'success closes the circuit',
    }),
    circuitReason: Nullable(Type.String({ description: 'why the circuit opened, with the last failure' })),
    circuitOpenedAt: Nullable(Timestamp),
    circuitUntil: Nullable(Type.String({ format: 'date-time', description: 'end of the current cool-down' })),
    consecutiveFailures: Type.Integer({ description: 'failed attempts in a row that reached the receiver' }),
    concurrencyLimit: Nullable(
      Type.Integer({
        description:
          'its adaptive limit on requests in flight: a new endpoint starts at 8 and gains one per success; ' +
          'timeouts, 5xx, 429 and connection errors halve it; null = the maximum (HERALD_MAX_IN_FLIGHT_PER_ENDPOINT)',
      }),
    ),
  },
  {
    readOnly: true,
    description: 'delivery health (read-only); re-enabling an inactive endpoint resets it',
  },
);

export const EndpointOut = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  url: Type.String(),
  name: Nullable(Type.String()),
  description: Nullable(Type.String()),
  eventTypes: Type.Array(Type.String()),
  active: Type.Boolean(),
  headers: Type.Record(Type.String(), Type.String()),
  profile: Type.String(),
  profileOptions: Type.Record(Type.String(), Type.Unknown()),
  auth: Nullable(AuthOut),
  signatureScheme: Type.Union([Type.Literal('hmac-sha256'), Type.Literal('ed25519')], {
    description: 'how the standard profile signs: `v1,` HMAC-SHA256 or `v1a,` Ed25519',
  }),
  publicKey: Nullable(
    Type.String({
      description: 'the Ed25519 public key (`whpk_…`) receivers verify `v1a,` signatures with; null for HMAC',
    }),
  ),
  retrySchedule: Nullable(Type.Array(Type.Integer())),
  timeouts: Nullable(Type.Object({ connectMs: Type.Integer(), totalMs: Type.Integer() })),
  rateLimit: Nullable(Type.Object({ perSecond: Type.Integer() })),
  ordering: Ordering,
  filter: Nullable(Type.Record(Type.String(), Type.Unknown())),
  ignoreOrigins: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  forwardTraceparent: ForwardTraceparent,
  disabledReason: Nullable(Type.String({ description: 'why Herald disabled the endpoint' })),
  disabledAt: Nullable(Timestamp),
  health: EndpointHealthOut,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const RECEIVER_KEY =
  'what receivers verify with: the signing secret (`whsec_…` for the standard profile), or for an ' +
  'Ed25519 endpoint its `whpk_` public key — the `whsk_` secret key is never shown';

export const CreatedEndpointOut = Type.Object({
  ...EndpointOut.properties,
  secret: Type.String({ description: RECEIVER_KEY }),
});

export const EndpointSecretOut = Type.Object({ secret: Type.String({ description: RECEIVER_KEY }) });

export const RotateSecretBody = Type.Union([
  Type.Object(
    {
      secret: Type.Optional(
        Type.String({
          maxLength: 256,
          description: 'the new secret (a `whsk_` key signs with Ed25519); generated when absent',
        }),
      ),
      signatureScheme: Type.Optional(SignatureSchemeIn),
    },
    {
      additionalProperties: false,
      description: 'without secret or signatureScheme, a new key of the endpoint’s current scheme',
    },
  ),
  Type.Null(),
]);

export const EndpointListQuery = Type.Object({
  ...PageQuery,
  url: Type.Optional(
    Type.String({ minLength: 1, maxLength: 4096, description: 'only endpoints with this URL' }),
  ),
});

export const EndpointDeleteByUrlQuery = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 4096, description: 'delete every endpoint with this URL' }),
});

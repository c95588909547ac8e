/** Schemas of events, deliveries and attempts, shared by the publishing, reading and repair routes. */
import { Type } from 'typebox';
import { EVENT_TYPE_NAME_PATTERN } from '../../event-types/event-type-name.ts';
import { ClientId, Nullable, TenantParams, Timestamp } from './common.ts';

export const MAX_BATCH = 100;

export const EventTypeName = Type.String({ pattern: EVENT_TYPE_NAME_PATTERN, maxLength: 128 });

/** Event data is a JSON object (as in Svix): every profile's envelope can carry or spread it. */
export const EventData = Type.Record(Type.String(), Type.Unknown(), {
  description: 'the payload, a JSON object',
});

// 128, as an endpoint's ignoreOrigins entries, so any origin can be ignored.
export const Origin = Type.String({
  minLength: 1,
  maxLength: 128,
  description: 'where the event came from; endpoints can ignore origins',
});

export const EventIn = Type.Object(
  {
    type: EventTypeName,
    data: EventData,
    // Your id for the event: publishing it again answers with the first event.
    id: Type.Optional(ClientId),
    origin: Type.Optional(Origin),
    occurredAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const EventBatchIn = Type.Object(
  { events: Type.Array(EventIn, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);

/** One bare event, or `{events: [...]}`; validated as the one its shape says (src/api/single-event.ts). */
export const PublishBody = Type.Union([EventIn, EventBatchIn], {
  // Named examples of the request body in the OpenAPI document (@fastify/swagger's x-examples).
  'x-examples': {
    oneEvent: {
      summary: 'One event',
      value: { type: 'invoice.created', data: { invoiceId: 42, total: '99.00' } },
    },
    batch: {
      summary: 'A batch: one call, one batch id',
      value: {
        events: [
          { type: 'invoice.created', data: { invoiceId: 42 }, id: 'inv-42-created' },
          { type: 'invoice.paid', data: { invoiceId: 41 }, origin: 'billing' },
        ],
      },
    },
  },
});

export const PublishHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'names the whole call: a repeat answers with the first call’s events and creates nothing',
    }),
  ),
});

export const EventOut = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  type: Type.String(),
  data: Type.Unknown({ description: 'null once the retention period has passed' }),
  origin: Nullable(Type.String()),
  occurredAt: Nullable(Timestamp),
  createdAt: Timestamp,
  batchId: Type.String({ description: 'shared by the events published in one call' }),
});

// Spelled out, not mapped from an array, so handler types keep the literal union.
export const DeliveryStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
]);

/** One endpoint's delivery of an event, as the event's detail lists it. */
export const EventDeliveryOut = Type.Object({
  deliveryId: Type.String(),
  endpointId: Type.String(),
  sequence: Type.Integer(),
  status: DeliveryStatus,
  attemptCount: Type.Integer(),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Timestamp),
  nextAttemptAt: Nullable(Timestamp),
  completedAt: Nullable(Timestamp),
});

export const EventDetailOut = Type.Object({
  ...EventOut.properties,
  deliveries: Type.Array(EventDeliveryOut),
});

export const DeliveryOut = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  endpointId: Type.String(),
  eventId: Type.String({ description: 'the first (usually only) event' }),
  eventIds: Type.Array(Type.String(), { description: 'all events of a batched delivery, in order' }),
  eventType: Type.String(),
  sequence: Type.Integer({ description: 'strictly increasing per endpoint' }),
  status: DeliveryStatus,
  attemptCount: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Timestamp),
  createdAt: Timestamp,
  completedAt: Nullable(Timestamp),
});

const Headers = Nullable(Type.Record(Type.String(), Type.Unknown()));

export const AttemptOut = Type.Object({
  id: Type.String(),
  attemptNumber: Type.Integer(),
  startedAt: Timestamp,
  durationMs: Type.Integer(),
  statusCode: Nullable(Type.Integer()),
  errorKind: Nullable(
    Type.String({ description: 'null on success; timeout, connect_error, http_status, …' }),
  ),
  errorMessage: Nullable(Type.String()),
  requestHeaders: Headers,
  responseHeaders: Headers,
  responseExcerpt: Nullable(Type.String()),
});

export const DeliveryDetailOut = Type.Object({ ...DeliveryOut.properties, attempts: Type.Array(AttemptOut) });

export const DeliveryBodyOut = Type.Object({
  body: Nullable(Type.String({ description: 'null when it cannot be rebuilt (see notes)' })),
  contentType: Nullable(Type.String()),
  exact: Type.Boolean({ description: 'byte for byte the body sent (before any attempt: to be sent)' }),
  attemptNumber: Nullable(
    Type.Integer({ description: 'the attempt whose body this is; null before the first' }),
  ),
  notes: Type.Array(Type.String(), {
    description: 'why it is not exact, or not shown; or that nothing was sent yet',
  }),
});

const ResourceId = Type.String({ minLength: 1, maxLength: 200 });

export const EventParams = Type.Object({ ...TenantParams.properties, eventId: ResourceId });
export const DeliveryParams = Type.Object({ ...TenantParams.properties, deliveryId: ResourceId });
export const EndpointParams = Type.Object({ ...TenantParams.properties, endpointId: ResourceId });

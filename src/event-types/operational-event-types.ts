/**
 * Herald's own event types: what the operational webhooks (`/v1/operational-endpoints`) can
 * subscribe to. Each one's `data` is built by the statement that made the change it reports
 * (src/queue/operational-outbox.ts); the schemas and examples here document it, for the API
 * (`GET /v1/operational-event-types`), the dashboard and docs/design.md. They are not in the
 * operator's catalog (`/v1/event-types`): that catalog is the operator's product's, shared by every
 * tenant and shown in their portals (docs/decisions.md, "Operational webhooks").
 */

export const OPERATIONAL_EVENT_TYPE_NAMES = [
  'endpoint.disabled',
  'endpoint.circuit_opened',
  'endpoint.circuit_closed',
  'endpoint.recovered',
  'delivery.exhausted',
] as const;

export type OperationalEventTypeName = (typeof OPERATIONAL_EVENT_TYPE_NAMES)[number];

export interface OperationalEventType {
  name: OperationalEventTypeName;
  description: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
}

const timestamp = { type: 'string', format: 'date-time' };
const nullable = (type: string) => ({ type: [type, 'null'] });
// Every event names the endpoint it is about.
const endpointFields = {
  tenantId: { type: 'string' },
  endpointId: { type: 'string' },
  url: { type: 'string' },
};

function objectSchema(properties: Record<string, unknown>): Record<string, unknown> {
  const all = { ...endpointFields, ...properties };
  return { type: 'object', properties: all, required: Object.keys(all), additionalProperties: false };
}

const ENDPOINT = {
  tenantId: 'acme',
  endpointId: 'ep_01JD6S5K9Q4ZB8X7M3N2P1R0TV',
  url: 'https://hooks.acme.example/herald',
};

export const OPERATIONAL_EVENT_TYPES: readonly OperationalEventType[] = [
  {
    name: 'endpoint.disabled',
    description:
      'Herald disabled an endpoint: it answered 410 Gone, or failed continuously for HERALD_DISABLE_AFTER. ' +
      'Its deliveries wait, pending, until it is enabled again. (Disabling through the API sends nothing.)',
    schema: objectSchema({
      reason: { type: 'string' },
      failingSince: nullable('string'),
      disabledAt: timestamp,
    }),
    example: {
      ...ENDPOINT,
      reason: 'failing continuously for more than 5d',
      failingSince: '2030-01-01T00:00:00.000Z',
      disabledAt: '2030-01-06T00:00:30.000Z',
    },
  },
  {
    name: 'endpoint.circuit_opened',
    description:
      "An endpoint's circuit opened after repeated failed attempts (HERALD_CIRCUIT_FAILURES): its deliveries " +
      'wait, spending no attempts, until a probe succeeds. Sent when a closed circuit opens, not when a failed ' +
      'probe keeps it open.',
    schema: objectSchema({
      circuitReason: { type: 'string' },
      consecutiveFailures: { type: 'integer' },
      circuitOpenedAt: timestamp,
      circuitUntil: timestamp,
    }),
    example: {
      ...ENDPOINT,
      circuitReason: '20 consecutive failed attempts; last: HTTP 503',
      consecutiveFailures: 20,
      circuitOpenedAt: '2030-01-01T12:00:00.000Z',
      circuitUntil: '2030-01-01T12:00:30.000Z',
    },
  },
  {
    name: 'endpoint.circuit_closed',
    description:
      "An endpoint's open circuit closed: a probe request succeeded, and its deliveries flow again.",
    schema: objectSchema({ circuitOpenedAt: nullable('string'), closedAt: timestamp }),
    example: {
      ...ENDPOINT,
      circuitOpenedAt: '2030-01-01T12:00:00.000Z',
      closedAt: '2030-01-01T12:04:30.000Z',
    },
  },
  {
    name: 'endpoint.recovered',
    description:
      'An endpoint Herald reported trouble with (its circuit opened, a delivery was exhausted, or it was ' +
      'disabled) succeeded again: the first successful attempt after that report. A failure nobody was told ' +
      'about ends without one. `reportedAt` is when the first report of the streak was made.',
    schema: objectSchema({ reportedAt: timestamp, recoveredAt: timestamp }),
    example: { ...ENDPOINT, reportedAt: '2030-01-01T12:00:00.000Z', recoveredAt: '2030-01-01T12:04:30.000Z' },
  },
  {
    name: 'delivery.exhausted',
    description:
      'A delivery failed its last attempt: its retry schedule is used up and it is `failed` until retried ' +
      'or recovered.',
    schema: objectSchema({
      deliveryId: { type: 'string' },
      eventId: { type: 'string' },
      eventType: { type: 'string' },
      attempts: { type: 'integer' },
      lastStatusCode: nullable('integer'),
      lastError: nullable('string'),
      failedAt: timestamp,
    }),
    example: {
      ...ENDPOINT,
      deliveryId: 'dlv_01JD6S5M2E8W5V3A9Q7K4T6B1C',
      eventId: 'msg_01JD6S5KZ3R8T2M6C4P9V1X7QA',
      eventType: 'invoice.created',
      attempts: 10,
      lastStatusCode: 503,
      lastError: 'HTTP 503',
      failedAt: '2030-01-04T09:12:00.000Z',
    },
  },
];

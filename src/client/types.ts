/**
 * The API's request and response types. Where the routes export their TypeBox schema the type is
 * derived from it (`Static<typeof X>`), so the client cannot drift from the server; the few schemas
 * private to their route file are written out here. Type-only imports: nothing of the server is
 * loaded at run time.
 */
import type { Static } from 'typebox';
import type {
  CreatedEndpointOut,
  EndpointCreateBody,
  EndpointHealthOut,
  EndpointOut,
  EndpointPatchBody,
} from '../api/schemas/endpoint.ts';
import type {
  AttemptOut,
  DeliveryDetailOut,
  DeliveryOut,
  DeliveryStatus as DeliveryStatusSchema,
  EventDetailOut,
  EventIn,
  EventOut,
} from '../api/schemas/event.ts';
import type { OperationalEventTypeOut } from '../api/schemas/operational.ts';
import type { ProfileOut } from '../api/schemas/profile.ts';

/** One page of a list; pass `nextCursor` back as `cursor` for the next one (null: the last page). */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface PageParams {
  /** Page size, at most 250 (default 50). */
  limit?: number;
  cursor?: string;
}

export interface Tenant {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface TenantCreate {
  id?: string;
  name: string;
  metadata?: Record<string, unknown>;
}

export interface TenantPatch {
  name?: string;
  metadata?: Record<string, unknown>;
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A new key: `key` is shown only in this answer. */
export interface NewApiKey {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  key: string;
}

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
  example: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface EventTypeCreate {
  name: string;
  description?: string | null;
  schema?: unknown;
  example?: unknown;
}

export type EventTypePatch = Omit<EventTypeCreate, 'name'>;

export type Endpoint = Static<typeof EndpointOut>;
/** `endpoint.health`: its circuit breaker and adaptive limit, read-only (docs/isolation.md). */
export type EndpointHealth = Static<typeof EndpointHealthOut>;
export type CreatedEndpoint = Static<typeof CreatedEndpointOut>;
export type EndpointCreate = Static<typeof EndpointCreateBody>;
export type EndpointPatch = Static<typeof EndpointPatchBody>;

export type Event = Static<typeof EventOut>;
export type EventDetail = Static<typeof EventDetailOut>;
export type EventInput = Static<typeof EventIn>;

export type Delivery = Static<typeof DeliveryOut>;
export type DeliveryDetail = Static<typeof DeliveryDetailOut>;
export type DeliveryStatus = Static<typeof DeliveryStatusSchema>;
export type Attempt = Static<typeof AttemptOut>;
export type Profile = Static<typeof ProfileOut>;
/** One of Herald's own event types, which operational endpoints subscribe to. */
export type OperationalEventType = Static<typeof OperationalEventTypeOut>;

/** The API's error body: `{"error": {code, message, details}}`. */
export interface ApiErrorDetail {
  path?: string;
  message: string;
}

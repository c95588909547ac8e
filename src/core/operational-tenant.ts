/**
 * The operational tenant: Herald's own, reserved, created by migration 015. Its endpoints are the
 * operator's operational webhooks (`/v1/operational-endpoints`), and its events are Herald's own —
 * an endpoint disabled, a circuit opened or closed, a delivery exhausted, an endpoint recovered
 * (src/event-types/operational-event-types.ts) — delivered by the same engine as any tenant's.
 * Creating a tenant with this id is refused (TENANT_ID_RESERVED); nothing reports on its own
 * endpoints and deliveries, so operational webhooks never loop.
 */
export const OPERATIONAL_TENANT_ID = '_herald';

/**
 * The operational tenant (`_herald`, src/core/operational-tenant.ts) is changed only through
 * `/v1/operational-endpoints`, which keeps its endpoints what Herald's own events need (the standard
 * profile, Herald's event types). Its tenant routes stay readable — its endpoints, events,
 * deliveries and attempts, for the dashboard's pages — and a failed operational delivery may be sent
 * again (retry, recover), but every other write there is 403 FORBIDDEN: no endpoint edited past
 * those rules, no event published in Herald's name, no API key or portal session, no deleting it.
 * Only the admin key gets this far: the tenant has no keys of its own.
 */
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.ts';
import { OPERATIONAL_TENANT_ID } from '../core/operational-tenant.ts';

const READS = new Set(['GET', 'HEAD']);

/** Writes under `/v1/tenants/:tenantId` that the operational tenant allows: sending again. */
const SENDING_AGAIN = new Set([
  'POST /v1/tenants/:tenantId/deliveries/:deliveryId/retry',
  'POST /v1/tenants/:tenantId/endpoints/:endpointId/recover',
]);

/** Whether the route refuses the operational tenant (answers 403 FORBIDDEN for it). */
export function refusesOperationalTenant(method: string, url: string): boolean {
  const m = method.toUpperCase();
  return url.includes(':tenantId') && !READS.has(m) && !SENDING_AGAIN.has(`${m} ${url}`);
}

/** onRequest hook, after authentication: refuses the writes above. */
export async function guardOperationalTenant(request: FastifyRequest): Promise<void> {
  const tenantId = (request.params as { tenantId?: string } | undefined)?.tenantId;
  if (tenantId !== OPERATIONAL_TENANT_ID) return;
  if (refusesOperationalTenant(request.method, request.routeOptions.url ?? '')) {
    throw new HeraldError(
      'FORBIDDEN',
      `The operational tenant "${OPERATIONAL_TENANT_ID}" is changed only through /v1/operational-endpoints`,
    );
  }
}

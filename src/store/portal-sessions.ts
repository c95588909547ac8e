/**
 * What a portal session token is bound to (src/security/portal-token.ts): its tenant's incarnation —
 * `created_at` to the microsecond, so a tenant deleted and created again under the same id does
 * not inherit the old sessions — and its portal generation, which ending the sessions moves on
 * (migration 011).
 */
import { one, type Queryable } from '../db/db.ts';

export interface PortalBinding {
  /** The tenant's `created_at` in microseconds since the epoch, as text (exact). */
  incarnation: string;
  generation: number;
}

/** The tenant's current binding, or undefined when it does not exist. */
export async function portalBinding(q: Queryable, tenantId: string): Promise<PortalBinding | undefined> {
  return one<PortalBinding>(
    q,
    `SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS incarnation,
       portal_generation AS generation
     FROM tenants WHERE id = $1`,
    [tenantId],
  );
}

/** Ends every portal session of the tenant; false when there is no such tenant. */
export async function endPortalSessions(q: Queryable, tenantId: string): Promise<boolean> {
  const row = await one(
    q,
    'UPDATE tenants SET portal_generation = portal_generation + 1 WHERE id = $1 RETURNING 1',
    [tenantId],
  );
  return row !== undefined;
}

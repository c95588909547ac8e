/**
 * Tenants: the operator's customers. Deleting one deletes everything it owns (FK cascades). The
 * operational tenant (src/core/operational-tenant.ts) is Herald's own: no tenant may take its id,
 * and the list of tenants leaves it out.
 */

import { HeraldError } from '../core/errors.ts';
import { OPERATIONAL_TENANT_ID } from '../core/operational-tenant.ts';
import { type Db, one, type Queryable } from '../db/db.ts';
import { inRemoval, removeEndpoints } from './endpoint-removal.ts';

/** Whether the tenant exists: asked only on a miss, to answer TENANT_NOT_FOUND rather than the resource's 404. */
export async function tenantExists(q: Queryable, tenantId: string): Promise<boolean> {
  return (await one(q, 'SELECT 1 FROM tenants WHERE id = $1', [tenantId])) !== undefined;
}

/**
 * Locks the tenant's row for a count-then-insert inside `tx`, so concurrent creates cannot overshoot
 * a limit (TENANT_NOT_FOUND if there is none). NO KEY UPDATE: publishes, whose foreign keys only
 * take KEY SHARE on the row, are not held up.
 */
export async function lockTenantForCount(tx: Queryable, tenantId: string): Promise<void> {
  const tenant = await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE', [tenantId]);
  if (tenant.length === 0) throw new HeraldError('TENANT_NOT_FOUND');
}

export interface Tenant {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface TenantRow {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  metadata: r.metadata,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function createTenant(
  q: Queryable,
  input: { id: string; name: string; metadata: Record<string, unknown> },
): Promise<Tenant> {
  if (input.id === OPERATIONAL_TENANT_ID) {
    throw new HeraldError(
      'TENANT_ID_RESERVED',
      `The tenant id "${OPERATIONAL_TENANT_ID}" is Herald's own (its operational webhooks: /v1/operational-endpoints)`,
      [{ path: 'id', message: 'is reserved' }],
    );
  }
  const row = await one<TenantRow>(
    q,
    `INSERT INTO tenants (id, name, metadata) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO NOTHING RETURNING *`,
    [input.id, input.name, input.metadata],
  );
  if (!row) throw new HeraldError('TENANT_EXISTS', `A tenant with id "${input.id}" already exists`);
  return toTenant(row);
}

export async function getTenant(q: Queryable, id: string): Promise<Tenant> {
  const row = await one<TenantRow>(q, 'SELECT * FROM tenants WHERE id = $1', [id]);
  if (!row) throw new HeraldError('TENANT_NOT_FOUND');
  return toTenant(row);
}

export async function listTenants(q: Queryable, opts: { before?: string; limit: number }): Promise<Tenant[]> {
  const rows = await q.query<TenantRow>(
    `SELECT * FROM tenants WHERE ($1::text IS NULL OR id < $1) AND id <> $3 ORDER BY id DESC LIMIT $2`,
    [opts.before ?? null, opts.limit, OPERATIONAL_TENANT_ID],
  );
  return rows.map(toTenant);
}

export async function updateTenant(
  q: Queryable,
  id: string,
  patch: { name?: string; metadata?: Record<string, unknown> },
): Promise<Tenant> {
  const row = await one<TenantRow>(
    q,
    `UPDATE tenants SET name = COALESCE($2, name), metadata = COALESCE($3, metadata), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, patch.name ?? null, patch.metadata ?? null],
  );
  if (!row) throw new HeraldError('TENANT_NOT_FOUND');
  return toTenant(row);
}

/** Deletes the tenant and everything it owns (endpoints and their traffic, events; keys by cascade). */
export async function deleteTenant(db: Db, id: string): Promise<void> {
  await inRemoval(db, async (tx) => {
    // Locked first: no endpoint can be created for it meanwhile (that takes a key share lock).
    const tenant = await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [id]);
    if (tenant.length === 0) throw new HeraldError('TENANT_NOT_FOUND');
    // Their traffic first, then the endpoint rows (waiting for publishes holding them), then what
    // those publishes added: endpoint-removal.ts.
    const endpoints = await tx.query<{ id: string }>('SELECT id FROM endpoints WHERE tenant_id = $1', [id]);
    await removeEndpoints(
      tx,
      endpoints.map((e) => e.id),
    );
    await tx.query('DELETE FROM tenants WHERE id = $1', [id]);
    // After the tenant row: a publish holds a key-share lock on it until it commits, so by now
    // every event that will ever be written for it is (migration 022: no cascade from the row).
    await tx.query('DELETE FROM events WHERE tenant_id = $1', [id]);
    // And its handoffs (migration 023): a worker still sending one records nothing, its endpoints gone.
    await tx.query('DELETE FROM handoffs WHERE tenant_id = $1', [id]);
  });
}

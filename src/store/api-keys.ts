/**
 * Tenant API keys. The key itself exists only in the answer to its creation; the table keeps its
 * SHA-256 (src/security/api-keys.ts) and a short prefix for people to recognise it by. Revoking
 * keeps the row (for the list and audits); authentication ignores revoked keys.
 */

import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type Db, one, type Queryable } from '../db/db.ts';
import { displayPrefix, generateKey, hashKey, TENANT_KEY_PREFIX } from '../security/api-keys.ts';
import { lockTenantForCount, tenantExists } from './tenants.ts';

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A key as created: the only time `key` is ever shown. */
export interface NewApiKey extends ApiKey {
  key: string;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string | null;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, prefix, created_at, last_used_at, revoked_at';

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/** The unrevoked key with this digest (SHA-256 hex of the presented key), if any. */
export async function findActiveKey(
  q: Queryable,
  digest: string,
): Promise<{ id: string; tenantId: string; keyHash: string } | undefined> {
  const row = await one<{ id: string; tenant_id: string; key_hash: string }>(
    q,
    'SELECT id, tenant_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [digest],
  );
  return row && { id: row.id, tenantId: row.tenant_id, keyHash: row.key_hash };
}

/** Records when a key was last used (the authenticator writes it at most once a minute per key). */
export async function touchKey(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [id, at]);
}

/** Creates a key for the tenant (TENANT_NOT_FOUND if there is none). */
export async function createApiKey(
  db: Db,
  input: { tenantId: string; name: string | null; maxKeys: number },
): Promise<NewApiKey> {
  const key = generateKey(TENANT_KEY_PREFIX);
  return db.transaction(async (tx) => {
    await lockTenantForCount(tx, input.tenantId);
    const [live] = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL',
      [input.tenantId],
    );
    if ((live?.n ?? 0) >= input.maxKeys) {
      throw new HeraldError('LIMIT_EXCEEDED', `A tenant may hold at most ${input.maxKeys} API keys`, [
        { path: 'apiKeys', message: `the tenant already holds ${live?.n} unrevoked keys; revoke one first` },
      ]);
    }
    const row = await one<ApiKeyRow>(
      tx,
      `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [newId('key'), input.tenantId, input.name, displayPrefix(key), hashKey(key)],
    );
    return { ...toApiKey(row!), key };
  });
}

/** The tenant's keys, revoked ones included, newest first (TENANT_NOT_FOUND if there is no tenant). */
export async function listApiKeys(
  q: Queryable,
  tenantId: string,
  opts: { before?: string; limit: number },
): Promise<ApiKey[]> {
  const rows = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ($2::text IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [tenantId, opts.before ?? null, opts.limit],
  );
  if (rows.length === 0 && !(await tenantExists(q, tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
  return rows.map(toApiKey);
}

/** Revokes a key of the tenant; revoking twice keeps the first time. */
export async function revokeApiKey(q: Queryable, tenantId: string, keyId: string): Promise<ApiKey> {
  const row = await one<ApiKeyRow>(
    q,
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, keyId],
  );
  if (row) return toApiKey(row);
  if (!(await tenantExists(q, tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
  throw new HeraldError('API_KEY_NOT_FOUND');
}

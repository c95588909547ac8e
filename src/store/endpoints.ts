/**
 * Endpoints: a tenant's subscriptions. Every statement is scoped by `tenant_id`, so another
 * tenant's endpoint is simply not found. The signing secret and the auth are sealed at rest
 * (src/security/secret-box.ts); answers show the auth without its secrets and never the signing
 * secret, except on creation and from `getEndpointSecret` (endpoint-secrets.ts, with rotation) — and
 * of an Ed25519 endpoint not even then: its `whpk_` public key takes the secret key's place
 * (src/endpoints/endpoint-secret.ts).
 */

import { HeraldError, invalid } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type Db, one, type Queryable } from '../db/db.ts';
import {
  publicKeyColumn,
  receiverKey,
  type SignatureScheme,
  signatureSchemeOf,
  validateSecret,
} from '../endpoints/endpoint-secret.ts';
import type {
  EndpointAuth,
  EndpointFields,
  EndpointPatch,
  Ordering,
} from '../endpoints/endpoint-validation.ts';
import { checkEndpointRules } from '../endpoints/profile-rules.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { lowerNextDueNowSql } from '../queue/next-due-repair.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  type EndpointHealth,
  type HealthRow,
  healthColumns,
  RESET_HEALTH_SQL,
  toHealth,
} from './endpoint-health.ts';
import { inRemoval, removeEndpoints } from './endpoint-removal.ts';
import { lockTenantForCount, tenantExists } from './tenants.ts';

/** The auth as answers show it: who and where, never a token, password or client secret. */
export type RedactedAuth =
  | { type: 'bearer' }
  | { type: 'basic'; username: string }
  | { type: 'oauth2'; tokenUrl: string; clientId: string; scope: string | null };

/** An endpoint as the API shows it: its stored settings, with auth redacted, and its state. */
export interface Endpoint extends Omit<EndpointFields, 'auth' | 'profile'> {
  id: string;
  tenantId: string;
  profile: string;
  auth: RedactedAuth | null;
  /** How the `standard` profile signs its requests: `v1,` HMAC or `v1a,` Ed25519. */
  signatureScheme: SignatureScheme;
  /** The Ed25519 public key (`whpk_…`) receivers verify with; null for HMAC. */
  publicKey: string | null;
  disabledReason: string | null;
  disabledAt: string | null;
  /** The circuit breaker and adaptive limit (read-only; src/store/endpoint-health.ts). */
  health: EndpointHealth;
  createdAt: string;
  updatedAt: string;
}

interface EndpointRow extends HealthRow {
  id: string;
  tenant_id: string;
  url: string;
  name: string | null;
  description: string | null;
  event_types: string[];
  active: boolean;
  headers: Record<string, string>;
  profile: string;
  profile_options: Record<string, unknown>;
  auth_enc: string | null;
  auth_type: string | null;
  public_key: string | null;
  retry_schedule: number[] | null;
  connect_timeout_ms: number | null;
  total_timeout_ms: number | null;
  rate_limit_per_second: number | null;
  ordering: string;
  filter: Record<string, unknown> | null;
  ignore_origins: string[];
  metadata: Record<string, unknown>;
  forward_traceparent: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

// Everything an answer needs; the signing secrets stay in the table.
const COLUMNS = `id, tenant_id, url, name, description, event_types, active, headers, profile, profile_options,
  auth_enc, auth_type, public_key, retry_schedule, connect_timeout_ms, total_timeout_ms, rate_limit_per_second, ordering,
  filter, ignore_origins, metadata, forward_traceparent, disabled_reason, disabled_at, created_at, updated_at,
  ${healthColumns()}`;

function redactAuth(row: EndpointRow, box: SecretBox): RedactedAuth | null {
  if (row.auth_enc === null) return null;
  let auth: EndpointAuth;
  try {
    auth = JSON.parse(box.open(row.auth_enc)) as EndpointAuth;
  } catch {
    // Sealed under another key: the type is still known, the rest cannot be shown.
    return { type: (row.auth_type ?? 'bearer') as 'bearer' };
  }
  if (auth.type === 'basic') return { type: 'basic', username: auth.username };
  if (auth.type === 'oauth2') {
    return { type: 'oauth2', tokenUrl: auth.tokenUrl, clientId: auth.clientId, scope: auth.scope ?? null };
  }
  return { type: 'bearer' };
}

function toEndpoint(r: EndpointRow, box: SecretBox): Endpoint {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    name: r.name,
    description: r.description,
    eventTypes: r.event_types,
    active: r.active,
    headers: r.headers,
    profile: r.profile,
    profileOptions: r.profile_options,
    auth: redactAuth(r, box),
    signatureScheme: r.public_key === null ? 'hmac-sha256' : 'ed25519',
    publicKey: r.public_key,
    retrySchedule: r.retry_schedule,
    timeouts:
      r.connect_timeout_ms === null || r.total_timeout_ms === null
        ? null
        : { connectMs: r.connect_timeout_ms, totalMs: r.total_timeout_ms },
    rateLimit: r.rate_limit_per_second === null ? null : { perSecond: r.rate_limit_per_second },
    ordering: r.ordering as Ordering,
    filter: r.filter,
    ignoreOrigins: r.ignore_origins,
    metadata: r.metadata,
    forwardTraceparent: r.forward_traceparent,
    disabledReason: r.disabled_reason,
    disabledAt: r.disabled_at?.toISOString() ?? null,
    health: toHealth(r),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Column values of the fields a write names, with the auth sealed. */
function columnsOf(fields: EndpointPatch, box: SecretBox): Array<[string, unknown, string]> {
  const cols: Array<[string, unknown, string]> = [];
  const add = (column: string, value: unknown, cast: string) => cols.push([column, value, cast]);
  if (fields.url !== undefined) add('url', fields.url, 'text');
  if (fields.name !== undefined) add('name', fields.name, 'text');
  if (fields.description !== undefined) add('description', fields.description, 'text');
  if (fields.eventTypes !== undefined) add('event_types', fields.eventTypes, 'text[]');
  if (fields.active !== undefined) add('active', fields.active, 'boolean');
  if (fields.headers !== undefined) add('headers', fields.headers, 'jsonb');
  if (fields.profile !== undefined) add('profile', fields.profile, 'text');
  if (fields.profileOptions !== undefined) add('profile_options', fields.profileOptions, 'jsonb');
  if (fields.auth !== undefined) {
    add('auth_enc', fields.auth && box.seal(JSON.stringify(fields.auth)), 'text');
    add('auth_type', fields.auth?.type ?? null, 'text');
  }
  if (fields.retrySchedule !== undefined) add('retry_schedule', fields.retrySchedule, 'integer[]');
  if (fields.timeouts !== undefined) {
    add('connect_timeout_ms', fields.timeouts?.connectMs ?? null, 'integer');
    add('total_timeout_ms', fields.timeouts?.totalMs ?? null, 'integer');
  }
  if (fields.rateLimit !== undefined)
    add('rate_limit_per_second', fields.rateLimit?.perSecond ?? null, 'integer');
  if (fields.ordering !== undefined) add('ordering', fields.ordering, 'text');
  if (fields.filter !== undefined) add('filter', fields.filter, 'jsonb');
  if (fields.ignoreOrigins !== undefined) add('ignore_origins', fields.ignoreOrigins, 'text[]');
  if (fields.metadata !== undefined) add('metadata', fields.metadata, 'jsonb');
  if (fields.forwardTraceparent !== undefined)
    add('forward_traceparent', fields.forwardTraceparent, 'boolean');
  return cols;
}

/** The 404 for a tenant-scoped miss: no such tenant, or no such endpoint of it. */
export async function endpointNotFound(q: Queryable, tenantId: string): Promise<HeraldError> {
  return (await tenantExists(q, tenantId))
    ? new HeraldError('ENDPOINT_NOT_FOUND')
    : new HeraldError('TENANT_NOT_FOUND');
}

/**
 * Creates an endpoint for the tenant (TENANT_NOT_FOUND if there is none; LIMIT_EXCEEDED once it has
 * `maxEndpoints`). The tenant row is locked while counting, so concurrent creates cannot overshoot.
 *
 * @example await createEndpoint(db, box, { tenantId: 'acme', fields, secret, maxEndpoints: 1000 })
 */
export async function createEndpoint(
  db: Db,
  box: SecretBox,
  input: { tenantId: string; fields: EndpointFields; secret: string; maxEndpoints: number },
): Promise<{ endpoint: Endpoint; secret: string }> {
  const cols = columnsOf(input.fields, box);
  cols.push(['secret_enc', box.seal(input.secret), 'text']);
  cols.push(['public_key', publicKeyColumn(input.secret, input.fields.profile), 'text']);
  const names = ['id', 'tenant_id', ...cols.map(([c]) => c)].join(', ');
  const values = ['$1', '$2', ...cols.map(([, , cast], i) => `$${i + 3}::${cast}`)].join(', ');
  const row = await db.transaction(async (tx) => {
    await lockTenantForCount(tx, input.tenantId);
    const [count] = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1',
      [input.tenantId],
    );
    if ((count?.n ?? 0) >= input.maxEndpoints) {
      throw new HeraldError('LIMIT_EXCEEDED', `A tenant may have at most ${input.maxEndpoints} endpoints`, [
        { path: 'endpoints', message: `the tenant already has ${count?.n} endpoints` },
      ]);
    }
    return one<EndpointRow>(tx, `INSERT INTO endpoints (${names}) VALUES (${values}) RETURNING ${COLUMNS}`, [
      newId('ep'),
      input.tenantId,
      ...cols.map(([, value]) => value),
    ]);
  });
  return { endpoint: toEndpoint(row!, box), secret: receiverKey(input.secret, input.fields.profile) };
}

export async function getEndpoint(
  q: Queryable,
  box: SecretBox,
  tenantId: string,
  id: string,
): Promise<Endpoint> {
  const row = await one<EndpointRow>(q, `SELECT ${COLUMNS} FROM endpoints WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    id,
  ]);
  if (!row) throw await endpointNotFound(q, tenantId);
  return toEndpoint(row, box);
}

/**
 * The tenant's endpoints, newest first; `urls` keeps only endpoints with one of these URLs.
 *
 * @example await listEndpoints(db, box, 'acme', { limit: 51 })
 */
export async function listEndpoints(
  q: Queryable,
  box: SecretBox,
  tenantId: string,
  opts: { urls?: string[]; before?: string; limit: number },
): Promise<Endpoint[]> {
  const rows = await q.query<EndpointRow>(
    `SELECT ${COLUMNS} FROM endpoints
     WHERE tenant_id = $1 AND ($2::text[] IS NULL OR url = ANY ($2::text[])) AND ($3::text IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [tenantId, opts.urls ?? null, opts.before ?? null, opts.limit],
  );
  if (rows.length === 0 && !(await tenantExists(q, tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
  return rows.map((r) => toEndpoint(r, box));
}

/**
 * Applies `patch` to the endpoint. The rules that tie fields together (profile, its options,
 * headers, auth) are checked on the endpoint as it will be, under the row lock. Re-activating an
 * inactive endpoint clears why and when it was disabled, restarts its failure clock, closes its
 * circuit, puts its limit back to the slow start and makes its waiting deliveries due now.
 *
 * @example await updateEndpoint(db, box, 'acme', 'ep_…', { active: true })
 */
export async function updateEndpoint(
  db: Db,
  box: SecretBox,
  tenantId: string,
  id: string,
  patch: EndpointPatch,
): Promise<Endpoint> {
  return db.transaction(async (tx) => {
    const current = await one<EndpointRow & { secret_enc: string }>(
      tx,
      `SELECT ${COLUMNS}, secret_enc FROM endpoints WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
    );
    if (!current) throw await endpointNotFound(tx, tenantId);
    const profile = (patch.profile ?? current.profile) as ProfileName;
    checkEndpointRules({
      profile,
      profileOptions: patch.profileOptions ?? current.profile_options,
      headers: patch.headers ?? current.headers,
      authType: patch.auth === undefined ? current.auth_type : (patch.auth?.type ?? null),
      forwardTraceparent: patch.forwardTraceparent ?? current.forward_traceparent,
    });
    if (profile === 'standard' && current.profile !== 'standard') {
      const secret = box.open(current.secret_enc);
      // A whsk_-looking secret another profile keyed HMAC with would turn into an Ed25519 key here.
      let usable = signatureSchemeOf(secret, 'standard') === 'hmac-sha256';
      try {
        validateSecret(secret, 'standard');
      } catch {
        usable = false;
      }
      if (!usable) {
        throw invalid(
          'profile',
          'the endpoint secret is not a Standard Webhooks secret; rotate it to a whsec_ secret first',
        );
      }
    }
    if (profile !== 'standard' && current.public_key !== null) {
      throw invalid(
        'profile',
        `the endpoint signs with Ed25519, which only the standard profile does; rotate it to an HMAC secret first (signatureScheme: "hmac-sha256")`,
      );
    }

    const cols = columnsOf(patch, box);
    if (cols.length === 0) return toEndpoint(current, box);
    const sets = cols.map(([column, , cast], i) => `${column} = $${i + 3}::${cast}`);
    const reactivated = patch.active === true && !current.active;
    if (reactivated) {
      sets.push('disabled_reason = NULL', 'disabled_at = NULL', 'failing_since = NULL', RESET_HEALTH_SQL);
    }
    sets.push('updated_at = now()');
    const row = await one<EndpointRow>(
      tx,
      `UPDATE endpoints SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id, ...cols.map(([, value]) => value)],
    );
    if (reactivated) {
      // Deliveries met while the endpoint was inactive were pushed ahead; resume them now rather
      // than when that pause runs out. Ones a dispatcher holds (locked_by) are left alone.
      // The endpoint's next due time comes down with them (claim-deliveries.ts; its row is this
      // transaction's already).
      await tx.query(
        `WITH resumed AS (
           UPDATE deliveries SET next_attempt_at = now()
           WHERE endpoint_id = $1 AND status = 'pending' AND locked_by IS NULL AND next_attempt_at > now()
           RETURNING 1)
         ${lowerNextDueNowSql('$1', 'EXISTS (SELECT 1 FROM resumed)')}`,
        [id],
      );
    }
    return toEndpoint(row!, box);
  });
}

/**
 * Deletes the tenant's endpoints matching `where` (on `$2`), with their deliveries and attempts;
 * answers how many. ENDPOINT_NOT_FOUND (or TENANT_NOT_FOUND) when there was none.
 */
function deleteEndpointsWhere(db: Db, tenantId: string, where: string, value: unknown): Promise<number> {
  return inRemoval(db, async (tx) => {
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM endpoints WHERE tenant_id = $1 AND ${where}`,
      [tenantId, value],
    );
    const deleted = await removeEndpoints(
      tx,
      rows.map((r) => r.id),
    );
    if (deleted.length === 0) throw await endpointNotFound(tx, tenantId);
    return deleted.length;
  });
}

/** Deletes the endpoint with its deliveries and their attempts. */
export async function deleteEndpoint(db: Db, tenantId: string, id: string): Promise<void> {
  await deleteEndpointsWhere(db, tenantId, 'id = $2', id);
}

/**
 * Deletes every endpoint of the tenant with one of these URLs (Altoviz's unregister); returns how
 * many. ENDPOINT_NOT_FOUND when there was none.
 */
export function deleteEndpointsByUrl(db: Db, tenantId: string, urls: string[]): Promise<number> {
  return deleteEndpointsWhere(db, tenantId, 'url = ANY ($2::text[])', urls);
}

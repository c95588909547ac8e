/**
 * What the endpoint routes do, shared by a tenant's (endpoints.ts) and the operator's operational
 * ones (operational-endpoints.ts), which differ in their paths, access and tenant only.
 */
import type { ErrorCode } from '../../core/errors.ts';
import { urlSpellings } from '../../endpoints/endpoint-url.ts';
import { type EndpointInput, validateNewEndpoint } from '../../endpoints/endpoint-validation.ts';
import { rotateEndpointSecret } from '../../store/endpoint-secrets.ts';
import { createEndpoint, listEndpoints } from '../../store/endpoints.ts';
import type { AppContext } from '../context.ts';
import { DEFAULT_LIMIT, decodeCursor, page } from '../pagination.ts';

/** What checking an endpoint's fields can refuse, on create and on update alike. */
export const FIELD_ERRORS = [
  'INVALID_URL',
  'INVALID_HEADERS',
  'UNKNOWN_PROFILE',
  'INVALID_FILTER',
  'BLOCKED_ADDRESS',
] as const satisfies readonly ErrorCode[];

/** Creates the endpoint; the answer carries its secret (or Ed25519 public key), shown this once. */
export async function createEndpointOf(
  ctx: AppContext,
  tenantId: string,
  body: EndpointInput & { url: string },
) {
  const { fields, secret } = await validateNewEndpoint(body, ctx.config);
  const created = await createEndpoint(ctx.db, ctx.secretBox, {
    tenantId,
    fields,
    secret,
    maxEndpoints: ctx.config.maxEndpointsPerTenant,
  });
  return { ...created.endpoint, secret: created.secret };
}

/** A page of the tenant's endpoints, newest first, optionally those with one URL. */
export async function listEndpointsPage(
  ctx: AppContext,
  tenantId: string,
  query: { limit?: number; cursor?: string; url?: string },
) {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const before = decodeCursor(query.cursor);
  const rows = await listEndpoints(ctx.db, ctx.secretBox, tenantId, {
    limit: limit + 1,
    ...(before ? { before } : {}),
    ...(query.url !== undefined ? { urls: urlSpellings(query.url) } : {}),
  });
  return page(rows, limit, (e) => e.id);
}

/** Rotates the endpoint's secret (the old one keeps signing for the overlap); answers the new one. */
export async function rotateSecretOf(
  ctx: AppContext,
  tenantId: string,
  endpointId: string,
  body: { secret?: string; signatureScheme?: 'hmac-sha256' | 'ed25519' } | null | undefined,
) {
  return {
    secret: await rotateEndpointSecret(ctx.db, ctx.secretBox, tenantId, endpointId, {
      secret: body?.secret,
      signatureScheme: body?.signatureScheme,
      now: ctx.clock.now(),
    }),
  };
}

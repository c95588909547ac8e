// @ts-check
// The only way the pages talk to Herald: its public HTTP API, with the key the browser holds.

// The API's shapes, from the typed client's types (derived from the routes' schemas), for the pages'
// JSDoc. Type-only: the browser never loads src/client.
/** @typedef {import('../../../client/types.ts').Tenant} Tenant */
/** @typedef {import('../../../client/types.ts').EventType} EventType */
/** @typedef {import('../../../client/types.ts').Endpoint} Endpoint */
/** @typedef {import('../../../client/types.ts').EndpointHealth} EndpointHealth */
/** @typedef {import('../../../client/types.ts').Event} Event */
/** @typedef {import('../../../client/types.ts').EventDetail} EventDetail */
/** @typedef {import('../../../client/types.ts').Delivery} Delivery */
/** @typedef {import('../../../client/types.ts').DeliveryDetail} DeliveryDetail */
/** @typedef {import('../../../client/types.ts').Attempt} Attempt */
/** @typedef {import('../../../client/types.ts').Profile} Profile */
/** @typedef {import('../../../client/types.ts').OperationalEventType} OperationalEventType */
/** @typedef {import('../../../client/types.ts').ApiErrorDetail} ApiErrorDetail */
/**
 * @template T
 * @typedef {import('../../../client/types.ts').Page<T>} Page
 */
/** @typedef {ReturnType<typeof createApi>} Api */
/** @typedef {Record<string, string | number | boolean | null | undefined>} Query */

/** A refusal from the API: the stable `code`, and `details` naming the fields at fault. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body the parsed answer, whatever it is (not JSON: null)
   */
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = e.code ?? 'HTTP_ERROR';
    /** @type {ApiErrorDetail[]} */
    this.details = Array.isArray(e.details) ? e.details : [];
  }
}

/**
 * @param {string} key the admin key or a portal session token
 * @param {{onUnauthorized?: () => void}} options called on 401 (signed out, or the link expired)
 */
export function createApi(key, { onUnauthorized } = {}) {
  /**
   * The parsed answer, typed `any`: each caller states the shape it expects (a JSDoc `@returns`
   * on its loader, or a typed variable).
   * @param {string} method
   * @param {string} path
   * @param {{query?: Query, body?: unknown}} [options]
   * @returns {Promise<any>}
   */
  async function call(method, path, { query, body } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      if (res.status === 401) onUnauthorized?.();
      throw new ApiError(res.status, data);
    }
    return data;
  }
  return {
    /** @param {string} path @param {Query} [query] */
    get: (path, query) => call('GET', path, { query }),
    /** @param {string} path @param {unknown} [body] */
    post: (path, body = {}) => call('POST', path, { body }),
    /** @param {string} path @param {unknown} body */
    patch: (path, body) => call('PATCH', path, { body }),
    /** @param {string} path */
    del: (path) => call('DELETE', path),
  };
}

/** Herald's own tenant, whose endpoints are the operator's operational webhooks (src/core/operational-tenant.ts). */
export const OPERATIONAL_TENANT_ID = '_herald';

/** Where operational endpoints are created and changed (the tenant routes of `_herald` only read them). */
export const OPERATIONAL_ENDPOINTS_PATH = '/v1/operational-endpoints';

/** `/v1/tenants/{tid}` with the id encoded: every tenant page builds its paths from this. */
export const tenantPath = (/** @type {string} */ tenantId) => `/v1/tenants/${encodeURIComponent(tenantId)}`;

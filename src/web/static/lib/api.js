// The only way the pages talk to Herald: its public HTTP API, with the key the browser holds.

/** A refusal from the API: the stable `code`, and `details` naming the fields at fault. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = e.code ?? 'HTTP_ERROR';
    this.details = Array.isArray(e.details) ? e.details : [];
  }
}

/**
 * @param {string} key the admin key or a portal session token
 * @param {{onUnauthorized?: () => void}} options called on 401 (signed out, or the link expired)
 */
export function createApi(key, { onUnauthorized } = {}) {
  async function call(method, path, { query, body } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
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
    get: (path, query) => call('GET', path, { query }),
    post: (path, body = {}) => call('POST', path, { body }),
    patch: (path, body) => call('PATCH', path, { body }),
    del: (path) => call('DELETE', path),
  };
}

/** `/v1/tenants/{tid}` with the id encoded: every tenant page builds its paths from this. */
export const tenantPath = (tenantId) => `/v1/tenants/${encodeURIComponent(tenantId)}`;

// @ts-check
// Hash routing (`#/tenants/acme/endpoints`): the server serves one page per app, and the path after
// `#` never reaches a server or its logs.
import { useEffect, useState } from './html.js';

export function currentPath() {
  const hash = window.location.hash.replace(/^#/, '');
  return hash.startsWith('/') ? hash.split('?')[0] : '/';
}

export function useHashPath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

/**
 * Matches `/t/:tenantId/endpoints/:endpointId` against a path; the params, or null.
 * @param {string} pattern
 * @param {string} path
 * @returns {Record<string, string> | null}
 */
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

export const navigate = (/** @type {string} */ hash) => {
  window.location.hash = hash;
};

/** The query part of the hash route (`#/deliveries?status=failed`). */
export function hashQuery() {
  const i = window.location.hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? window.location.hash.slice(i + 1) : '');
}

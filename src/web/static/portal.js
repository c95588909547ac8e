// @ts-check
// The tenant portal (/portal): entered through `/portal#token=…` from POST …/portal-sessions. The
// token is moved from the URL into sessionStorage at once (so it is not left in the address bar or
// the history) and used as the bearer key; it reaches only its own tenant's routes. It wears the
// operator's branding: the configured one (a meta element the server writes), or the session's own
// (inside the token). The operator may embed it in a frame (HERALD_PORTAL_FRAME_ANCESTORS).
import { Layout } from './components/layout.js';
import { createApi } from './lib/api.js';
import { formatTime } from './lib/format.js';
import { html, render, useMemo, useState } from './lib/html.js';
import { useHashPath } from './lib/router.js';
import { tenantNav, tenantPage } from './pages/tenant-pages.js';

const KEY = 'herald.portalToken';

function takeTokenFromUrl() {
  const m = /^#token=([^&]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', `${window.location.pathname}#/endpoints`);
  }
  return sessionStorage.getItem(KEY);
}

/** The claims inside a token (tenant, expiry, branding); only for display — the API checks the signature. */
function claims(token) {
  try {
    const payload = token.slice('hps_'.length).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const body = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
    if (typeof body.tid !== 'string' || typeof body.exp !== 'number') return null;
    return {
      tenantId: body.tid,
      expiresAt: new Date(body.exp * 1000).toISOString(),
      branding: body.b && typeof body.b === 'object' ? body.b : {},
    };
  } catch {
    return null;
  }
}

/** The configured branding (web-routes.ts writes it into the page). */
function configuredBranding() {
  try {
    const meta = /** @type {HTMLMetaElement | null} */ (
      document.querySelector('meta[name="herald-portal-branding"]')
    );
    return JSON.parse(meta?.content ?? '{}');
  } catch {
    return {};
  }
}

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). */
function textOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#000' : '#fff';
}

function applyBranding(b) {
  document.title = b.name;
  if (/^#[0-9a-fA-F]{6}$/.test(b.accentColor ?? '')) {
    document.documentElement.style.setProperty('--accent', b.accentColor);
    document.documentElement.style.setProperty('--accent-fg', textOn(b.accentColor));
  }
}

/** Why the portal cannot show a tenant: no link, a link that is not one, an expired or ended one. */
function refusal(token, rejected) {
  if (!token) return 'This page opens through a portal link.';
  const c = claims(token);
  if (!c) return 'This portal link is not valid.';
  if (!rejected) return null;
  return new Date(c.expiresAt) <= new Date()
    ? 'This portal link has expired.'
    : 'This portal link is no longer valid.';
}

const initialToken = takeTokenFromUrl();

function Portal() {
  const [token] = useState(initialToken);
  const [rejected, setRejected] = useState(false);
  const path = useHashPath();
  const session = token ? claims(token) : null;
  const branding = { ...configuredBranding(), ...(session?.branding ?? {}) };
  branding.name ||= 'Webhooks';
  applyBranding(branding);
  const api = useMemo(
    () =>
      token
        ? createApi(token, {
            onUnauthorized: () => {
              sessionStorage.removeItem(KEY);
              setRejected(true);
            },
          })
        : null,
    [token],
  );
  const why = refusal(token, rejected);
  if (why || !api || !session) {
    return html`<main id="main" class="sign-in"><h1>${branding.name}</h1>
      <p class="banner error" role="alert">${why}${' '}Ask for a new link where you found this one.</p></main>`;
  }
  const rest = path === '/' ? '/endpoints' : path;
  const title = branding.logoUrl
    ? html`<img class="brand-logo" src=${branding.logoUrl} alt="" />${branding.name}`
    : branding.name;
  return html`<${Layout} title=${title} subtitle=${html`<span class="mono">${session.tenantId}</span>`}
    nav=${tenantNav('#', rest)}
    actions=${html`<span class="muted">Session until ${formatTime(session.expiresAt)}</span>`}>
    ${tenantPage(rest, { api, tenantId: session.tenantId, base: '#' }) ?? html`<p>No such page. <a href="#/endpoints">Endpoints</a></p>`}
  <//>`;
}

// The static "Loading…" placeholder is not Preact's to diff: clear it first.
const root = /** @type {HTMLElement} */ (document.getElementById('app'));
root.textContent = '';
render(html`<${Portal} />`, root);

// The tenant portal (/portal): entered through `/portal#token=…` from POST …/portal-sessions. The
// token is moved from the URL into sessionStorage at once (so it is not left in the address bar or
// the history) and used as the bearer key; it reaches only its own tenant's routes.
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

/** The claims inside a token (tenant, expiry); only for display — the API checks the signature. */
function claims(token) {
  try {
    const payload = token.slice('hps_'.length).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const body = JSON.parse(atob(payload));
    return { tenantId: String(body.tid), expiresAt: new Date(body.exp * 1000).toISOString() };
  } catch {
    return null;
  }
}

const initialToken = takeTokenFromUrl();

function Portal() {
  const [token, setToken] = useState(initialToken);
  const [expired, setExpired] = useState(false);
  const path = useHashPath();
  const session = token ? claims(token) : null;
  const api = useMemo(
    () =>
      token
        ? createApi(token, {
            onUnauthorized: () => {
              sessionStorage.removeItem(KEY);
              setExpired(true);
              setToken(null);
            },
          })
        : null,
    [token],
  );
  if (!api || !session) {
    return html`<main id="main" class="sign-in"><h1>Webhooks</h1>
      <p class="banner error" role="alert">${expired ? 'This portal link has expired.' : 'This page opens through a portal link.'}
        Ask for a new link where you found this one.</p></main>`;
  }
  const rest = path === '/' ? '/endpoints' : path;
  return html`<${Layout} title="Webhooks" subtitle=${html`<span class="mono">${session.tenantId}</span>`}
    nav=${tenantNav('#', rest)}
    actions=${html`<span class="muted">Session until ${formatTime(session.expiresAt)}</span>`}>
    ${tenantPage(rest, { api, tenantId: session.tenantId, base: '#' }) ?? html`<p>No such page. <a href="#/endpoints">Endpoints</a></p>`}
  <//>`;
}

// The static "Loading…" placeholder is not Preact's to diff: clear it first.
const root = document.getElementById('app');
root.textContent = '';
render(html`<${Portal} />`, root);

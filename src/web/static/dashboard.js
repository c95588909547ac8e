// @ts-check
// The operator dashboard (/ui): sign in with the admin key, then tenants, health, the event-type
// catalog, every tenant's pages under `#/t/<tenant>/…`, and the operational webhooks (Herald's own
// events) under `#/operational/…`: their own list, and the tenant pages of `_herald` for the rest.
import { Layout } from './components/layout.js';
import { createApi, OPERATIONAL_TENANT_ID } from './lib/api.js';
import { html, render, useMemo, useState } from './lib/html.js';
import { match, navigate, useHashPath } from './lib/router.js';
import { EventTypesPage } from './pages/event-types.js';
import { HealthPage } from './pages/health.js';
import { OperationalEndpointsPage } from './pages/operational-endpoints.js';
import { SignInPage } from './pages/sign-in.js';
import { tenantNav, tenantPage } from './pages/tenant-pages.js';
import { TenantsPage } from './pages/tenants.js';

const KEY = 'herald.adminKey';

function Dashboard() {
  const [key, setKey] = useState(() => sessionStorage.getItem(KEY));
  const path = useHashPath();
  const signOut = () => {
    sessionStorage.removeItem(KEY);
    setKey(null);
  };
  const api = useMemo(() => (key ? createApi(key, { onUnauthorized: signOut }) : null), [key]);
  if (!api) {
    return html`<${SignInPage}
      onSignedIn=${(k) => {
        sessionStorage.setItem(KEY, k);
        setKey(k);
        if (path === '/') navigate('#/tenants');
      }}
    />`;
  }

  const nav = [
    { href: '#/tenants', label: 'Tenants', current: path === '/tenants' || path === '/' },
    { href: '#/health', label: 'Health', current: path === '/health' },
    { href: '#/event-types', label: 'Event types', current: path === '/event-types' },
    { href: '#/operational', label: 'Operational webhooks', current: path.startsWith('/operational') },
  ];
  let page;
  let subtitle;
  const tenant = /^\/t\/([^/]+)(\/.*)?$/.exec(path);
  const operational = /^\/operational(\/.*)?$/.exec(path);
  if (operational) {
    const base = '#/operational';
    const rest = operational[1] ?? '/endpoints';
    subtitle = 'operational webhooks';
    nav.push(...tenantNav(base, rest));
    // Created and changed on their own page (/v1/operational-endpoints), not the tenant's forms.
    if (match('/endpoints', rest) || match('/endpoints/new', rest))
      page = html`<${OperationalEndpointsPage} api=${api} base=${base} />`;
    else if (!rest.endsWith('/edit'))
      page = tenantPage(rest, { api, tenantId: OPERATIONAL_TENANT_ID, base, operational: true });
  } else if (tenant) {
    const tenantId = decodeURIComponent(tenant[1]);
    const base = `#/t/${encodeURIComponent(tenantId)}`;
    const rest = tenant[2] ?? '/endpoints';
    subtitle = html`tenant <span class="mono">${tenantId}</span>`;
    nav.push(...tenantNav(base, rest));
    page = tenantPage(rest, { api, tenantId, base });
  } else if (match('/health', path)) page = html`<${HealthPage} api=${api} />`;
  else if (match('/event-types', path)) page = html`<${EventTypesPage} api=${api} />`;
  else if (path === '/' || match('/tenants', path)) page = html`<${TenantsPage} api=${api} />`;
  return html`<${Layout} title="Herald" subtitle=${subtitle} nav=${nav}
    actions=${html`<button type="button" class="secondary" onClick=${signOut}>Sign out</button>`}>
    ${page ?? html`<p>No such page. <a href="#/tenants">Tenants</a></p>`}
  <//>`;
}

// The static "Loading…" placeholder is not Preact's to diff: clear it first.
const root = /** @type {HTMLElement} */ (document.getElementById('app'));
root.textContent = '';
render(html`<${Dashboard} />`, root);

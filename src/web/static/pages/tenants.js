// @ts-check
// The operator's tenants: list, create, open a tenant's pages, and mint a portal link for it.
import { CopyButton } from '../components/copy-button.js';
import { describedBy, ErrorBanner, Field } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Tenant} Tenant */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

function CreateTenant({ api, onCreated }) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState(/** @type {{id?: string, name?: string}} */ ({}));
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setErrors({});
    setError(null);
    try {
      const t = await api.post('/v1/tenants', { name: name.trim(), ...(id.trim() ? { id: id.trim() } : {}) });
      setId('');
      setName('');
      onCreated(t);
    } catch (err) {
      /** @type {{id?: string, name?: string}} */
      const byField = {};
      for (const d of err.details ?? []) {
        const f = String(d.path ?? '').replace(/^body\./, '');
        if (f === 'id' || f === 'name') byField[f] = d.message;
      }
      if (err.code === 'TENANT_EXISTS') byField.id = err.message;
      setErrors(byField);
      if (Object.keys(byField).length === 0) setError(err);
    }
  }
  return html`<section class="card" aria-labelledby="new-tenant-h">
    <h2 id="new-tenant-h">New tenant</h2>
    <${ErrorBanner} error=${error} />
    <form class="form row-form" onSubmit=${submit}>
      <${Field} id="tenant-name" label="Name" error=${errors.name}>
        <input id="tenant-name" type="text" required value=${name} onInput=${(e) => setName(e.currentTarget.value)} ...${describedBy('tenant-name', errors.name)} />
      <//>
      <${Field} id="tenant-id" label="Id (optional)" error=${errors.id} hint="Letters, digits, _ . - (generated if empty)">
        <input id="tenant-id" type="text" value=${id} onInput=${(e) => setId(e.currentTarget.value)} ...${describedBy('tenant-id', errors.id, true)} />
      <//>
      <button type="submit">Create tenant</button>
    </form>
  </section>`;
}

function PortalLink({ api, tenantId }) {
  const [link, setLink] = useState(
    /** @type {{url: string, token: string, expiresAt: string} | null} */ (null),
  );
  const [error, setError] = useState(/** @type {Error | null} */ (null));
  async function mint() {
    setError(null);
    try {
      setLink(await api.post(`${tenantPath(tenantId)}/portal-sessions`, {}));
    } catch (err) {
      setError(err);
    }
  }
  if (error) return html`<span class="field-error">${error.message}</span>`;
  if (!link)
    return html`<button type="button" class="secondary" onClick=${mint} aria-label=${`Portal link for ${tenantId}`}>Portal link</button>`;
  return html`<span class="portal-link">
    <label class="visually-hidden" for=${`portal-${tenantId}`}>Portal link for ${tenantId}</label>
    <input id=${`portal-${tenantId}`} readonly value=${link.url} data-testid="portal-url" />
    <${CopyButton} text=${link.url} />
    <span class="muted">until ${formatTime(link.expiresAt)}</span>
  </span>`;
}

/** @param {{api: Api}} props */
export function TenantsPage({ api }) {
  const { data, error, reload } = useResource(
    /** @returns {Promise<Page<Tenant>>} */
    () => api.get('/v1/tenants', { limit: 250 }),
    [api],
  );
  return html`<${PageTitle} sub="The operator's customers">Tenants<//>
    <${CreateTenant} api=${api} onCreated=${reload} />
    <${ErrorBanner} error=${error} />
    ${data && data.data.length === 0 ? html`<p class="empty">No tenants yet.</p>` : null}
    ${
      data && data.data.length > 0
        ? html`<div class="table-wrap"><table class="list" aria-label="Tenants">
          <thead><tr><th scope="col">Tenant</th><th scope="col">Id</th><th scope="col">Created</th><th scope="col">Pages</th><th scope="col">Portal</th></tr></thead>
          <tbody>${data.data.map(
            (t) => html`<tr>
              <td>${t.name}</td>
              <td class="mono">${t.id}</td>
              <td>${formatTime(t.createdAt)}</td>
              <td><a href=${`#/t/${encodeURIComponent(t.id)}/endpoints`}>Endpoints</a> · <a href=${`#/t/${encodeURIComponent(t.id)}/deliveries`}>Deliveries</a></td>
              <td><${PortalLink} api=${api} tenantId=${t.id} /></td>
            </tr>`,
          )}</tbody></table></div>
          ${data.nextCursor ? html`<p class="muted">Showing the first 250 tenants.</p>` : null}`
        : null
    }`;
}

// The deliveries log, newest first, filterable (by the API) on status, event type and endpoint,
// polled while "Live" is on.
import { StatusBadge } from '../components/badges.js';
import { ErrorBanner, Field } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { hashQuery } from '../lib/router.js';
import { useResource } from '../lib/use-resource.js';

// A delivery's statuses (docs/design.md, glossary).
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'];

const PAGE = 50;

export function DeliveriesPage({ api, tenantId, base }) {
  const initial = hashQuery();
  const [status, setStatus] = useState(initial.get('status') ?? '');
  const [endpointId, setEndpointId] = useState(initial.get('endpointId') ?? '');
  const [type, setType] = useState(initial.get('type') ?? '');
  const [live, setLive] = useState(true);
  const [pages, setPages] = useState(1);
  const endpoints = useResource(
    () => api.get(`${tenantPath(tenantId)}/endpoints`, { limit: 250 }),
    [api, tenantId],
  );
  const catalog = useResource(() => api.get('/v1/event-types', { limit: 250 }), [api]);
  const log = useResource(
    async () => {
      const rows = [];
      let cursor;
      for (let i = 0; i < pages; i++) {
        const page = await api.get(`${tenantPath(tenantId)}/deliveries`, {
          limit: PAGE,
          status,
          endpointId,
          eventType: type,
          cursor,
        });
        rows.push(...page.data);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return { rows, more: Boolean(cursor) };
    },
    [api, tenantId, status, endpointId, type, pages],
    { pollMs: live ? 3000 : 0 },
  );
  const names = new Map((endpoints.data?.data ?? []).map((e) => [e.id, e.name || e.url]));
  const rows = log.data?.rows ?? [];
  const reset = (fn) => (e) => {
    fn(e.currentTarget.value);
    setPages(1);
  };
  return html`<${PageTitle} sub="Every event sent to every endpoint, newest first">Deliveries<//>
    <form class="filters" aria-label="Filter deliveries" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="f-status" label="Status">
        <select id="f-status" value=${status} onChange=${reset(setStatus)}>
          <option value="">any</option>
          ${DELIVERY_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      <//>
      <${Field} id="f-type" label="Event type">
        <select id="f-type" value=${type} onChange=${reset(setType)}>
          <option value="">any</option>
          ${(catalog.data?.data ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      <//>
      <${Field} id="f-endpoint" label="Endpoint">
        <select id="f-endpoint" value=${endpointId} onChange=${reset(setEndpointId)}>
          <option value="">any</option>
          ${(endpoints.data?.data ?? []).map((e) => html`<option value=${e.id}>${e.name || e.url}</option>`)}
        </select>
      <//>
      <label class="check live"><input type="checkbox" checked=${live} onChange=${(e) => setLive(e.currentTarget.checked)} /> Live</label>
    </form>
    <${ErrorBanner} error=${log.error} />
    ${log.loading ? html`<p>Loading…</p>` : null}
    ${log.data && rows.length === 0 ? html`<p class="empty">No deliveries match.</p>` : null}
    ${
      rows.length > 0
        ? html`<div class="table-wrap"><table class="list stack" aria-label="Deliveries" aria-live=${live ? 'polite' : 'off'} aria-relevant="additions">
          <thead><tr><th scope="col">Created</th><th scope="col">Event type</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th></tr></thead>
          <tbody>
            ${rows.map(
              (d) => html`<tr key=${d.id} data-delivery-id=${d.id}>
                <td data-label="Created"><a href=${`${base}/deliveries/${encodeURIComponent(d.id)}`} title=${d.createdAt}>${ago(d.createdAt)}</a></td>
                <td data-label="Event type" class="mono">${d.eventType}</td>
                <td data-label="Endpoint">${names.get(d.endpointId) ?? html`<span class="mono">${d.endpointId}</span>`}</td>
                <td data-label="Status"><${StatusBadge} status=${d.status} /></td>
                <td data-label="Attempts">${d.attemptCount}</td>
                <td data-label="Last answer">${d.lastStatusCode ?? d.lastError ?? '—'}</td>
              </tr>`,
            )}
          </tbody></table></div>`
        : null
    }
    ${log.data?.more ? html`<p><button type="button" class="secondary" onClick=${() => setPages(pages + 1)}>Load more</button></p>` : null}`;
}

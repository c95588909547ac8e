// @ts-check
// One event: its payload as published and its delivery to every endpoint, each linking to the
// delivery's detail (which links back here).
import { StatusBadge } from '../components/badges.js';
import { ErrorBanner } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { ago, formatTime, pretty } from '../lib/format.js';
import { html } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @typedef {import('../lib/api.js').EventDetail} EventDetail */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

/** @param {{api: Api, tenantId: string, base: string, params: Record<string, string>}} props */
export function EventDetailPage({ api, tenantId, base, params }) {
  const path = `${tenantPath(tenantId)}/events/${encodeURIComponent(params.eventId)}`;
  const { data: ev, error } = useResource(
    /** @returns {Promise<EventDetail>} */
    () => api.get(path),
    [api, path],
    { pollMs: 5000 },
  );
  const endpoints = useResource(
    /** @returns {Promise<Page<Endpoint>>} */
    () => api.get(`${tenantPath(tenantId)}/endpoints`, { limit: 250 }),
    [api, tenantId],
  );
  if (error) return html`<${ErrorBanner} error=${error} />`;
  if (!ev) return html`<p>Loading…</p>`;
  const names = new Map((endpoints.data?.data ?? []).map((e) => [e.id, e.name || e.url]));
  return html`<${PageTitle} sub=${html`<span class="mono">${ev.id}</span>`}>Event ${ev.type}<//>
    <section class="card">
      <dl class="props">
        <dt>Type</dt><dd class="mono">${ev.type}</dd>
        <dt>Created</dt><dd>${formatTime(ev.createdAt)}</dd>
        <dt>Occurred</dt><dd>${ev.occurredAt ? formatTime(ev.occurredAt) : '—'}</dd>
        <dt>Origin</dt><dd>${ev.origin ?? '—'}</dd>
        <dt>Batch</dt><dd class="mono">${ev.batchId}</dd>
      </dl>
    </section>
    <h2>Payload</h2>
    ${
      ev.data === null
        ? html`<p class="muted">The payload was purged after the retention period.</p>`
        : html`<pre class="excerpt" data-testid="event-payload">${pretty(ev.data)}</pre>`
    }
    <h2>Deliveries (${ev.deliveries.length})</h2>
    ${ev.deliveries.length === 0 ? html`<p class="muted">No endpoint subscribed to this event when it was published.</p>` : null}
    ${
      ev.deliveries.length > 0
        ? html`<div class="table-wrap"><table class="list stack" aria-label="Deliveries of this event">
          <thead><tr><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Delivery</th></tr></thead>
          <tbody>
            ${ev.deliveries.map(
              (d) => html`<tr key=${d.deliveryId} data-delivery-id=${d.deliveryId}>
                <td data-label="Endpoint"><a href=${`${base}/endpoints/${encodeURIComponent(d.endpointId)}`}>${names.get(d.endpointId) ?? d.endpointId}</a></td>
                <td data-label="Status"><${StatusBadge} status=${d.status} /></td>
                <td data-label="Attempts">${d.attemptCount}${d.lastAttemptAt ? html` <span class="muted">(last ${ago(d.lastAttemptAt)})</span>` : null}</td>
                <td data-label="Last answer">${d.lastStatusCode ?? d.lastError ?? '—'}</td>
                <td data-label="Delivery"><a class="mono" href=${`${base}/deliveries/${encodeURIComponent(d.deliveryId)}`}>${d.deliveryId}</a></td>
              </tr>`,
            )}
          </tbody></table></div>`
        : null
    }`;
}

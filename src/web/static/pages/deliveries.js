// @ts-check
// The deliveries log, newest first, filterable (by the API) on status, event type and endpoint,
// polled while "Live" is on. Rows can be selected and retried together, after a confirmation.
import { StatusBadge } from '../components/badges.js';
import { ErrorBanner, Field, Notice } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { hashQuery } from '../lib/router.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Delivery} Delivery */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @typedef {import('../lib/api.js').EventType} EventType */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

// A delivery's statuses (docs/design.md, glossary).
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'];

const PAGE = 50;

const deliveries = (n) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`;

/**
 * "Retry selected": says how many will be sent again and asks before sending anything; then one
 * retry call per delivery (the API's retry route), reporting how many were queued.
 */
function RetrySelected({ api, tenantId, selected, onDone }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(/** @type {Error | null} */ (null));
  const count = selected.size;
  async function retryAll() {
    setBusy(true);
    setError(null);
    let queued = 0;
    const failures = [];
    for (const id of selected) {
      try {
        await api.post(`${tenantPath(tenantId)}/deliveries/${encodeURIComponent(id)}/retry`, {});
        queued++;
      } catch (err) {
        failures.push(`${id}: ${err.message}`);
      }
    }
    setBusy(false);
    setConfirming(false);
    setNotice(`${deliveries(queued)} queued to be sent again now.`);
    if (failures.length) setError(new Error(`Not retried — ${failures.join('; ')}`));
    onDone();
  }
  return html`<div class="bulk" aria-live="polite">
    ${notice ? html`<${Notice}>${notice}<//>` : null}
    <${ErrorBanner} error=${error} />
    ${
      confirming && count > 0
        ? html`<div class="confirm" role="alertdialog" aria-labelledby="retry-confirm">
            <p id="retry-confirm"><strong>${deliveries(count)} will be sent again now.</strong> One being sent at this moment is left as it is.</p>
            <div class="row">
              <button type="button" disabled=${busy} onClick=${retryAll}>Send ${deliveries(count)} again</button>
              <button type="button" class="secondary" disabled=${busy} onClick=${() => setConfirming(false)}>Cancel</button>
            </div>
          </div>`
        : html`<button type="button" class="secondary" disabled=${count === 0} onClick=${() => {
            setNotice(null);
            setConfirming(true);
          }}>Retry selected (${count})</button>`
    }
  </div>`;
}

/** @param {{api: Api, tenantId: string, base: string}} props */
export function DeliveriesPage({ api, tenantId, base }) {
  const initial = hashQuery();
  const [status, setStatus] = useState(initial.get('status') ?? '');
  const [endpointId, setEndpointId] = useState(initial.get('endpointId') ?? '');
  const [type, setType] = useState(initial.get('type') ?? '');
  const [live, setLive] = useState(true);
  const [pages, setPages] = useState(1);
  const [selected, setSelected] = useState(() => /** @type {Set<string>} */ (new Set()));
  const endpoints = useResource(
    /** @returns {Promise<Page<Endpoint>>} */
    () => api.get(`${tenantPath(tenantId)}/endpoints`, { limit: 250 }),
    [api, tenantId],
  );
  const catalog = useResource(
    /** @returns {Promise<Page<EventType>>} */
    () => api.get('/v1/event-types', { limit: 250 }),
    [api],
  );
  const log = useResource(
    async () => {
      /** @type {Delivery[]} */
      const rows = [];
      let cursor;
      for (let i = 0; i < pages; i++) {
        /** @type {Page<Delivery>} */
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
    setSelected(new Set());
  };
  const toggle = (id, on) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const allShown = rows.length > 0 && rows.every((d) => selected.has(d.id));
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
    <${RetrySelected} api=${api} tenantId=${tenantId} selected=${selected} onDone=${() => {
      setSelected(new Set());
      log.reload();
    }} />
    <${ErrorBanner} error=${log.error} />
    ${log.loading ? html`<p>Loading…</p>` : null}
    ${log.data && rows.length === 0 ? html`<p class="empty">No deliveries match.</p>` : null}
    ${
      rows.length > 0
        ? html`<div class="table-wrap"><table class="list stack" aria-label="Deliveries" aria-live=${live ? 'polite' : 'off'} aria-relevant="additions">
          <thead><tr><th scope="col"><input type="checkbox" aria-label="Select every delivery shown" checked=${allShown}
            onChange=${(e) => setSelected(e.currentTarget.checked ? new Set(rows.map((d) => d.id)) : new Set())} /></th><th scope="col">Created</th><th scope="col">Event type</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th></tr></thead>
          <tbody>
            ${rows.map(
              (d) => html`<tr key=${d.id} data-delivery-id=${d.id}>
                <td data-label="Select"><input type="checkbox" aria-label=${`Select delivery ${d.id}`} checked=${selected.has(d.id)}
                  onChange=${(e) => toggle(d.id, e.currentTarget.checked)} /></td>
                <td data-label="Created"><a href=${`${base}/deliveries/${encodeURIComponent(d.id)}`} title=${d.createdAt}>${ago(d.createdAt)}</a></td>
                <td data-label="Event type" class="mono"><a href=${`${base}/events/${encodeURIComponent(d.eventId)}`} title="Open the event">${d.eventType}</a></td>
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

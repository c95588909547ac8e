// @ts-check
// One delivery: its event(s) (linked), the request body it carried, every attempt (request headers,
// response status, headers and excerpt, duration, error) and a retry button. Polled while pending.
import { StatusBadge } from '../components/badges.js';
import { ErrorBanner, Notice } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Attempt} Attempt */
/** @typedef {import('../lib/api.js').DeliveryDetail} DeliveryDetail */

function Headers({ headers, label }) {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return html`<p class="muted">No ${label.toLowerCase()}.</p>`;
  return html`<div class="table-wrap"><table class="kv" aria-label=${label}>
    <tbody>${entries.map(([k, v]) => html`<tr><th scope="row" class="mono">${k}</th><td class="mono">${String(v)}</td></tr>`)}</tbody>
  </table></div>`;
}

/** @param {{a: Attempt}} props */
function Attempt({ a }) {
  const outcome = a.errorKind === null ? 'succeeded' : 'failed';
  return html`<li class="attempt card" data-attempt=${a.attemptNumber}>
    <h3>Attempt ${a.attemptNumber} <${StatusBadge} status=${outcome} /></h3>
    <dl class="props">
      <dt>Started</dt><dd>${formatTime(a.startedAt)}</dd>
      <dt>Duration</dt><dd>${a.durationMs} ms</dd>
      <dt>Response status</dt><dd>${a.statusCode ?? 'none'}</dd>
      ${a.errorKind ? html`<dt>Error</dt><dd><span class="mono">${a.errorKind}</span>${a.errorMessage ? ` — ${a.errorMessage}` : ''}</dd>` : null}
    </dl>
    <details>
      <summary>Request headers</summary>
      <${Headers} headers=${a.requestHeaders} label="Request headers" />
    </details>
    <details>
      <summary>Response headers</summary>
      <${Headers} headers=${a.responseHeaders} label="Response headers" />
    </details>
    <h4>Response excerpt</h4>
    ${a.responseExcerpt ? html`<pre class="excerpt">${a.responseExcerpt}</pre>` : html`<p class="muted">Empty.</p>`}
  </li>`;
}

/**
 * The body sent, rebuilt by the API from the events and the endpoint's profile (attempts keep no
 * body); when that cannot be byte for byte what was sent, the API's notes say why and we show them.
 */
function RequestBody({ api, path, attempts }) {
  // Reloaded when an attempt is added: the body is the last attempt's.
  const { data, error } = useResource(() => api.get(`${path}/body`), [api, path, attempts]);
  return html`<section class="card" aria-labelledby="body-h">
    <h2 id="body-h">Request body</h2>
    <${ErrorBanner} error=${error} />
    ${
      data
        ? html`<p class="muted" data-testid="body-exactness">${
            data.exact
              ? data.attemptNumber === null
                ? 'Exactly what the first attempt will send.'
                : `Exactly the bytes attempt ${data.attemptNumber} sent${data.contentType ? ` (${data.contentType})` : ''}.`
              : 'Not exactly what was sent:'
          }</p>
          ${data.notes.length ? html`<ul class="notes">${data.notes.map((n) => html`<li>${n}</li>`)}</ul>` : null}
          ${data.body !== null ? html`<pre class="excerpt" data-testid="request-body">${data.body}</pre>` : null}`
        : null
    }
  </section>`;
}

/** @param {{api: Api, tenantId: string, base: string, params: Record<string, string>}} props */
export function DeliveryDetailPage({ api, tenantId, base, params }) {
  const path = `${tenantPath(tenantId)}/deliveries/${encodeURIComponent(params.deliveryId)}`;
  const [poll, setPoll] = useState(2000);
  const [notice, setNotice] = useState(/** @type {string | null} */ (null));
  const [retryError, setRetryError] = useState(null);
  const {
    data: d,
    error,
    reload,
  } = useResource(
    async () => {
      /** @type {DeliveryDetail} */
      const delivery = await api.get(path);
      setPoll(delivery.status === 'pending' ? 2000 : 0);
      return delivery;
    },
    [api, path],
    { pollMs: poll },
  );
  async function retry() {
    setRetryError(null);
    try {
      await api.post(`${path}/retry`, {});
      setNotice('Queued to be sent again now.');
      setPoll(2000);
      await reload();
    } catch (err) {
      setRetryError(err);
    }
  }
  if (error) return html`<${ErrorBanner} error=${error} />`;
  if (!d) return html`<p>Loading…</p>`;
  return html`<${PageTitle} sub=${html`<span class="mono">${d.id}</span>`}>Delivery of ${d.eventType}<//>
    <${ErrorBanner} error=${retryError} />
    ${notice ? html`<${Notice}>${notice}<//>` : null}
    <section class="card">
      <dl class="props">
        <dt>Status</dt><dd data-testid="delivery-status"><${StatusBadge} status=${d.status} /></dd>
        <dt>Endpoint</dt><dd><a class="mono" href=${`${base}/endpoints/${encodeURIComponent(d.endpointId)}`}>${d.endpointId}</a></dd>
        <dt>${d.eventIds.length > 1 ? 'Events' : 'Event'}</dt>
        <dd>${d.eventIds.map(
          (id, i) =>
            html`${i > 0 ? ', ' : ''}<a class="mono" href=${`${base}/events/${encodeURIComponent(id)}`}>${id}</a>`,
        )}</dd>
        <dt>Sequence</dt><dd>${d.sequence}</dd>
        <dt>Created</dt><dd>${formatTime(d.createdAt)}</dd>
        <dt>Next attempt</dt><dd>${d.status === 'pending' ? formatTime(d.nextAttemptAt) : '—'}</dd>
      </dl>
      <button type="button" onClick=${retry}>Retry now</button>
    </section>
    <${RequestBody} api=${api} path=${path} attempts=${d.attempts.length} />
    <h2>Attempts (${d.attempts.length})</h2>
    ${d.attempts.length === 0 ? html`<p class="muted">No attempt yet.</p>` : null}
    <ol class="attempts">${d.attempts.map((a) => html`<${Attempt} key=${a.id} a=${a} />`)}</ol>`;
}

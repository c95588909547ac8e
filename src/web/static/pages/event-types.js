// @ts-check
// The event-type catalog: names, descriptions, examples and schemas (read-only here; the catalog is
// managed through the API).
import { ErrorBanner } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { pretty } from '../lib/format.js';
import { html } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').EventType} EventType */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

/** @param {{api: Api}} props */
export function EventTypesPage({ api }) {
  const { data, error } = useResource(
    /** @returns {Promise<Page<EventType>>} */
    () => api.get('/v1/event-types', { limit: 250 }),
    [api],
  );
  return html`<${PageTitle} sub="The event types producers publish and endpoints subscribe to">Event types<//>
    <${ErrorBanner} error=${error} />
    ${data && data.data.length === 0 ? html`<p class="empty">The catalog is empty.</p>` : null}
    <ul class="plain catalog">
      ${(data?.data ?? []).map(
        (t) => html`<li class="card">
          <h2 class="mono">${t.name}</h2>
          ${t.description ? html`<p>${t.description}</p>` : null}
          ${
            t.example !== null && t.example !== undefined
              ? html`<details><summary>Example</summary><pre class="excerpt">${pretty(t.example)}</pre></details>`
              : null
          }
          ${t.schema ? html`<details><summary>Schema</summary><pre class="excerpt">${pretty(t.schema)}</pre></details>` : null}
        </li>`,
      )}
    </ul>
    ${data?.nextCursor ? html`<p class="muted">Showing the first 250 types.</p>` : null}`;
}

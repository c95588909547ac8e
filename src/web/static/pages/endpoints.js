// @ts-check
// A tenant's endpoints: state (circuit and throttling included), success rate over 24 h and last
// attempt (GET …/endpoint-stats).
import { CircuitState, EndpointState } from '../components/badges.js';
import { ErrorBanner } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { ago, percent } from '../lib/format.js';
import { html } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

/** @param {{api: Api, tenantId: string, base: string}} props */
export function EndpointsPage({ api, tenantId, base }) {
  const { data, error, loading } = useResource(
    async () => {
      /** @type {Page<Endpoint>} */
      const page = await api.get(`${tenantPath(tenantId)}/endpoints`, { limit: 100 });
      const ids = page.data.map((e) => e.id);
      const stats = ids.length
        ? await api.get(`${tenantPath(tenantId)}/endpoint-stats`, {
            endpointIds: ids.join(','),
            window: '24h',
          })
        : { data: [] };
      return {
        endpoints: page.data,
        more: page.nextCursor !== null,
        stats: new Map(stats.data.map((s) => [s.endpointId, s])),
      };
    },
    [api, tenantId],
    { pollMs: 10_000 },
  );
  return html`<${PageTitle} sub="Where this tenant's events are delivered">Endpoints<//>
    <p><a class="button" href=${`${base}/endpoints/new`}>New endpoint</a></p>
    <${ErrorBanner} error=${error} />
    ${loading ? html`<p>Loading…</p>` : null}
    ${data && data.endpoints.length === 0 ? html`<p class="empty">No endpoints yet.</p>` : null}
    ${
      data && data.endpoints.length > 0
        ? html`<div class="table-wrap"><table class="list" aria-label="Endpoints">
          <thead><tr><th scope="col">Endpoint</th><th scope="col">State</th><th scope="col">Success (24 h)</th><th scope="col">Last attempt</th></tr></thead>
          <tbody>
            ${data.endpoints.map((e) => {
              const s = data.stats.get(e.id);
              const last = s?.lastAttempt;
              return html`<tr>
                <td><a href=${`${base}/endpoints/${encodeURIComponent(e.id)}`}>${e.name || e.url}</a>
                  ${e.name ? html`<div class="muted mono">${e.url}</div>` : null}</td>
                <td><${EndpointState} endpoint=${e} failingSince=${s?.failingSince} disablesAt=${s?.disablesAt} /> <${CircuitState} endpoint=${e} /></td>
                <td>${percent(s?.successRate)}${s?.attempts ? html` <span class="muted">of ${s.attempts}</span>` : null}</td>
                <td>${last ? html`${ago(last.startedAt)} <span class="muted">${last.errorKind ?? last.statusCode ?? ''}</span>` : 'never'}</td>
              </tr>`;
            })}
          </tbody></table></div>
          ${data.more ? html`<p class="muted">Showing the first 100 endpoints.</p>` : null}`
        : null
    }`;
}

// @ts-check
// The operator's health page (GET /v1/stats): due backlog, oldest due delivery, failing, disabled,
// circuit-open and throttled endpoints, attempts per minute by outcome. Refreshed every 5 s.
import { BarChart } from '../components/chart.js';
import { ErrorBanner } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { OPERATIONAL_TENANT_ID } from '../lib/api.js';
import { ago, clockTime, duration, formatTime } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

// The operator's own operational webhooks (tenant `_herald`) have their pages under #/operational.
const endpointHref = (e) =>
  e.tenantId === OPERATIONAL_TENANT_ID
    ? `#/operational/endpoints/${encodeURIComponent(e.endpointId)}`
    : `#/t/${encodeURIComponent(e.tenantId)}/endpoints/${encodeURIComponent(e.endpointId)}`;

const WINDOWS = {
  '1h': { label: 'Last hour', chart: 'Attempts per minute by outcome, last hour' },
  '24h': { label: 'Last 24 hours', chart: 'Attempts per hour by outcome, last 24 hours' },
};

export function HealthPage({ api }) {
  const [span, setSpan] = useState('1h');
  const { data: s, error } = useResource(() => api.get('/v1/stats', { window: span }), [api, span], {
    pollMs: 5000,
  });
  return html`<${PageTitle} sub="Refreshed every 5 seconds">Health<//>
    <${ErrorBanner} error=${error} />
    ${
      s
        ? html`<dl class="figures big">
          <div><dt>Due backlog</dt><dd data-testid="due">${s.queue.due}</dd></div>
          <div><dt>Oldest due delivery</dt><dd>${s.queue.due > 0 ? html`waiting ${duration(s.queue.oldestDueAgeSeconds)}` : 'none'}</dd></div>
          <div><dt>Failing endpoints</dt><dd>${s.endpoints.failing}</dd></div>
          <div><dt>Disabled endpoints</dt><dd>${s.endpoints.disabled}</dd></div>
          <div><dt>Circuit open</dt><dd data-testid="circuit-open">${s.endpoints.circuitOpen}</dd></div>
          <div><dt>Throttled endpoints</dt><dd>${s.endpoints.throttled}</dd></div>
        </dl>
        <section class="card">
          <div class="segmented" role="group" aria-label="Chart window">
            ${Object.entries(WINDOWS).map(
              ([w, { label }]) =>
                html`<button type="button" class="secondary" aria-pressed=${w === span ? 'true' : 'false'}
                  onClick=${() => setSpan(w)}>${label}</button>`,
            )}
          </div>
          <${BarChart} title=${WINDOWS[span].chart} buckets=${s.attempts.buckets}
            series=${[
              { key: 'succeeded', label: 'succeeded (2xx)', cls: 's-ok' },
              { key: 'rejected', label: 'other status', cls: 's-warn' },
              { key: 'errored', label: 'no answer', cls: 's-bad' },
            ]} />
        </section>
        <div class="columns">
          <section class="card" aria-labelledby="failing-h">
            <h2 id="failing-h">Failing endpoints</h2>
            ${
              s.endpoints.failingList.length === 0
                ? html`<p class="muted">None.</p>`
                : html`<ul class="plain">${s.endpoints.failingList.map(
                    (e) =>
                      html`<li><a href=${endpointHref(e)}>${e.name || e.url}</a> <span class="muted">${e.tenantId} · failing since ${ago(e.failingSince)} · disabled ${formatTime(e.disablesAt)} if it keeps failing</span></li>`,
                  )}</ul>`
            }
          </section>
          <section class="card" aria-labelledby="disabled-h">
            <h2 id="disabled-h">Disabled endpoints</h2>
            ${
              s.endpoints.disabledList.length === 0
                ? html`<p class="muted">None.</p>`
                : html`<ul class="plain">${s.endpoints.disabledList.map(
                    (e) =>
                      html`<li><a href=${endpointHref(e)}>${e.name || e.url}</a> <span class="muted">${e.tenantId}${e.disabledReason ? ` · ${e.disabledReason}` : ''}${e.disabledAt ? ` · ${formatTime(e.disabledAt)}` : ''}</span></li>`,
                  )}</ul>`
            }
          </section>
          <section class="card" aria-labelledby="circuit-h">
            <h2 id="circuit-h">Circuit open</h2>
            ${
              s.endpoints.circuitOpenList.length === 0
                ? html`<p class="muted">None.</p>`
                : html`<ul class="plain">${s.endpoints.circuitOpenList.map(
                    (e) =>
                      html`<li><a href=${endpointHref(e)}>${e.name || e.url}</a> <span class="muted">${e.tenantId} · ${e.circuit === 'open' ? `open until ${clockTime(e.circuitUntil)}` : 'half-open (probing)'}${e.circuitReason ? ` · ${e.circuitReason}` : ''}</span></li>`,
                  )}</ul>`
            }
          </section>
        </div>`
        : html`<p>Loading…</p>`
    }`;
}

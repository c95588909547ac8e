// @ts-check
// One endpoint: its settings, its secret (reveal, copy, rotate), 24 h success rate and latency, the
// emulator ("send test event") and recovery of failed deliveries.
import { CircuitState, EndpointState } from '../components/badges.js';
import { BarChart } from '../components/chart.js';
import { CopyButton } from '../components/copy-button.js';
import { ErrorBanner, Notice } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { OPERATIONAL_ENDPOINTS_PATH, tenantPath } from '../lib/api.js';
import { ago, formatTime, ms, percent } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @typedef {import('../lib/api.js').EndpointHealth} EndpointHealth */
import { RecoverForm } from './recover-form.js';
import { TestEventForm } from './test-event-form.js';

const SCHEME_LABELS = { 'hmac-sha256': 'HMAC-SHA256', ed25519: 'Ed25519' };

/** The scheme of what receivers verify with: an Ed25519 endpoint's is its `whpk_` public key. */
const schemeOfKey = (/** @type {string} */ key) => (key.startsWith('whpk_') ? 'ed25519' : 'hmac-sha256');

/**
 * What receivers verify with. HMAC: the signing secret, hidden until revealed. Ed25519: the public
 * key, shown as it is — nothing secret about it; the secret key never leaves Herald. Rotating may
 * change the scheme (the standard profile's choice); the old key signs alongside for 24 h.
 * `rotatePath`: where rotating goes, when not `${path}/rotate-secret` (an operational endpoint);
 * `onRotated` reloads the endpoint, whose settings show the scheme.
 * @param {{api: Api, path: string, endpoint: Endpoint, rotatePath?: string, onRotated?: () => void}} props
 */
function SecretPanel({ api, path, endpoint, rotatePath = `${path}/rotate-secret`, onRotated }) {
  const [scheme, setScheme] = useState(endpoint.signatureScheme);
  const [secret, setSecret] = useState(
    /** @type {string | null} */ (endpoint.signatureScheme === 'ed25519' ? endpoint.publicKey : null),
  );
  const [newScheme, setNewScheme] = useState(endpoint.signatureScheme);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(/** @type {string | null} */ (null));
  const choosable = endpoint.profile === 'standard';
  const publicKey = scheme === 'ed25519';
  async function reveal() {
    setError(null);
    try {
      setSecret((await api.get(`${path}/secret`)).secret);
    } catch (err) {
      setError(err);
    }
  }
  async function rotate() {
    setError(null);
    try {
      /** @type {string} */
      const key = (await api.post(rotatePath, choosable ? { signatureScheme: newScheme } : {})).secret;
      setSecret(key);
      setScheme(schemeOfKey(key));
      setNotice('Rotated. The previous secret keeps signing alongside the new one for 24 hours.');
      onRotated?.();
    } catch (err) {
      setError(err);
    }
    setConfirming(false);
  }
  return html`<section class="card" aria-labelledby="secret-h">
    <h2 id="secret-h">${publicKey ? 'Public key (Ed25519)' : 'Signing secret'}</h2>
    ${publicKey ? html`<p class="hint">Receivers verify its <span class="mono">v1a</span> signatures with this public key; the secret key never leaves Herald.</p>` : null}
    <${ErrorBanner} error=${error} />
    ${notice ? html`<${Notice}>${notice}<//>` : null}
    <div class="row">
      <code class="secret" data-testid="secret">${secret ?? '••••••••••••••••••••••••'}</code>
    </div>
    <div class="row">
      ${
        secret
          ? html`${publicKey ? null : html`<button type="button" class="secondary" onClick=${() => setSecret(null)}>Hide</button>`}<${CopyButton} text=${secret} />`
          : html`<button type="button" class="secondary" onClick=${reveal}>Reveal secret</button>`
      }
      ${
        confirming
          ? html`${
              choosable
                ? html`<label for="rotate-scheme">New key</label>
                  <select id="rotate-scheme" value=${newScheme} onChange=${(e) => setNewScheme(e.currentTarget.value)}>
                    <option value="hmac-sha256">HMAC-SHA256 (a whsec_ secret)</option>
                    <option value="ed25519">Ed25519 (a whpk_ public key)</option>
                  </select>`
                : null
            }
            <button type="button" class="danger" onClick=${rotate}>Confirm rotation</button>
            <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep the secret</button>`
          : html`<button type="button" class="secondary" onClick=${() => {
              setNewScheme(scheme);
              setConfirming(true);
            }}>Rotate secret</button>`
      }
    </div>
  </section>`;
}

function StatsPanel({ api, path }) {
  const { data, error } = useResource(() => api.get(`${path}/stats`, { window: '24h' }), [api, path], {
    pollMs: 30_000,
  });
  if (error) return html`<${ErrorBanner} error=${error} />`;
  if (!data) return html`<p>Loading figures…</p>`;
  const rateBuckets = data.buckets.map((b) => ({
    start: b.start,
    ok: b.succeeded,
    failed: b.attempts - b.succeeded,
  }));
  return html`<section class="card" aria-labelledby="stats-h">
    <h2 id="stats-h">Last 24 hours</h2>
    <dl class="figures">
      <div><dt>Success rate</dt><dd data-testid="success-rate">${percent(data.totals.successRate)}</dd></div>
      <div><dt>Attempts</dt><dd>${data.totals.attempts}</dd></div>
      <div><dt>Average latency</dt><dd>${ms(data.totals.avgDurationMs)}</dd></div>
      <div><dt>Last attempt</dt><dd>${data.lastAttempt ? ago(data.lastAttempt.startedAt) : 'never'}</dd></div>
      ${
        data.failingSince
          ? html`<div><dt>Failing since</dt><dd data-testid="disables-at">${formatTime(data.failingSince)}; disabled ${formatTime(data.disablesAt)} if it keeps failing</dd></div>`
          : null
      }
    </dl>
    <div class="charts">
      <${BarChart} title="Attempts per hour by outcome" buckets=${rateBuckets}
        series=${[{ key: 'ok', label: 'succeeded', cls: 's-ok' }, { key: 'failed', label: 'failed', cls: 's-bad' }]} />
      <${BarChart} title="Latency per hour (average, ms)" buckets=${data.buckets}
        series=${[{ key: 'avgDurationMs', label: 'average ms', cls: 's-info' }]} format=${(n) => `${Math.round(n)}`} />
    </div>
  </section>`;
}

/** The circuit in words, with when it opened and why (docs/isolation.md). */
/** @param {EndpointHealth} h */
function circuitText(h) {
  if (h.circuit === 'closed') {
    return h.consecutiveFailures > 0
      ? `closed · ${h.consecutiveFailures} failed attempts in a row`
      : 'closed';
  }
  const state =
    h.circuit === 'open'
      ? `open until ${formatTime(h.circuitUntil)}`
      : 'half-open: the next request is a probe';
  return `${state} · opened ${formatTime(h.circuitOpenedAt)}${h.circuitReason ? ` · ${h.circuitReason}` : ''}`;
}

/** The adaptive limit in words: the maximum, throttled after failures, or still starting slowly. */
/** @param {EndpointHealth} health */
function inFlightText(health) {
  if (health.concurrencyLimit === null) return 'up to the maximum';
  if (health.consecutiveFailures > 0)
    return `throttled to ${health.concurrencyLimit} after timeouts or errors`;
  return `up to ${health.concurrencyLimit}, one more with each success (slow start)`;
}

/**
 * `operational`: an operational webhook (the operator's, for Herald's own events), changed only
 * through /v1/operational-endpoints: no edit form and no test event here; rotating goes there.
 * @param {{api: Api, tenantId: string, base: string, params: Record<string, string>, operational?: boolean}} props
 */
export function EndpointDetailPage({ api, tenantId, base, params, operational = false }) {
  const path = `${tenantPath(tenantId)}/endpoints/${encodeURIComponent(params.endpointId)}`;
  const {
    data: e,
    error,
    reload,
  } = useResource(
    /** @returns {Promise<Endpoint>} */
    () => api.get(path),
    [api, path],
  );
  if (error) return html`<${ErrorBanner} error=${error} />`;
  if (!e) return html`<p>Loading…</p>`;
  const href = `${base}/endpoints/${encodeURIComponent(e.id)}`;
  return html`<${PageTitle} sub=${html`<span class="mono">${e.url}</span>`}>${e.name || 'Endpoint'}<//>
    <div class="row">
      ${operational ? html`<a class="button" href=${`${base}/endpoints`}>Operational webhooks</a>` : html`<a class="button" href=${`${href}/edit`}>Edit</a>`}
      <a class="button secondary" href=${`${base}/deliveries?endpointId=${encodeURIComponent(e.id)}`}>Deliveries</a>
    </div>
    <section class="card" aria-labelledby="settings-h">
      <h2 id="settings-h">Settings</h2>
      <dl class="props">
        <dt>State</dt><dd><${EndpointState} endpoint=${e} /> <${CircuitState} endpoint=${e} /></dd>
        <dt>Circuit</dt><dd data-testid="circuit-detail">${circuitText(e.health)}</dd>
        <dt>Requests in flight</dt><dd>${inFlightText(e.health)}</dd>
        <dt>Id</dt><dd class="mono">${e.id}</dd>
        <dt>Event types</dt><dd class="mono">${e.eventTypes.join(', ')}</dd>
        <dt>Profile</dt><dd>${e.profile}</dd>
        ${e.profile === 'standard' ? html`<dt>Signature scheme</dt><dd data-testid="signature-scheme">${SCHEME_LABELS[e.signatureScheme] ?? e.signatureScheme}</dd>` : null}
        <dt>Forward traceparent</dt><dd data-testid="forward-traceparent">${e.forwardTraceparent ? 'yes' : 'no'}</dd>
        <dt>Extra headers</dt><dd class="mono">${Object.keys(e.headers ?? {}).length ? Object.entries(e.headers).map(([k, v]) => html`<div>${k}: ${v}</div>`) : '—'}</dd>
      </dl>
    </section>
    <${SecretPanel} api=${api} path=${path} endpoint=${e} onRotated=${reload}
      rotatePath=${operational ? `${OPERATIONAL_ENDPOINTS_PATH}/${encodeURIComponent(e.id)}/rotate-secret` : undefined} />
    <${StatsPanel} api=${api} path=${path} />
    ${operational ? null : html`<${TestEventForm} api=${api} path=${path} base=${base} subscribed=${e.eventTypes} />`}
    <${RecoverForm} api=${api} path=${path} />`;
}

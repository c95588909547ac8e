// @ts-check
// The operator's webhooks for Herald's own events (`/v1/operational-endpoints`): list with state,
// create (URL, name, the event types of GET /v1/operational-event-types), pause or resume, delete.
// Each one's page, deliveries and events are the shared tenant pages of the operational tenant
// (`#/operational/…`, read through `/v1/tenants/_herald/…`).
import { CircuitState, EndpointState } from '../components/badges.js';
import { CopyButton } from '../components/copy-button.js';
import { describedBy, ErrorBanner, Field, Notice } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { OPERATIONAL_ENDPOINTS_PATH, OPERATIONAL_TENANT_ID, tenantPath } from '../lib/api.js';
import { ago, percent } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';
import { SCHEMES } from './endpoint-form.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @typedef {import('../lib/api.js').OperationalEventType} OperationalEventType */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

/**
 * @param {{api: Api, types: OperationalEventType[], onCreated: (created: {secret: string, publicKey: boolean}) => void}} props
 */
function CreateOperationalEndpoint({ api, types, onCreated }) {
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState(/** @type {string[]} */ ([]));
  const [scheme, setScheme] = useState('hmac-sha256');
  const [forward, setForward] = useState(false);
  const [errors, setErrors] = useState(
    /** @type {{url?: string, name?: string, eventTypes?: string}} */ ({}),
  );
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {string} name @param {boolean} on */
  const toggle = (name, on) => setChosen((c) => (on ? [...c, name] : c.filter((x) => x !== name)));

  /** @param {Event} e */
  async function submit(e) {
    e.preventDefault();
    setErrors({});
    setError(null);
    try {
      const created = await api.post(OPERATIONAL_ENDPOINTS_PATH, {
        url: url.trim(),
        // None ticked: every one of Herald's event types.
        eventTypes: chosen.length ? chosen : ['*'],
        signatureScheme: scheme,
        forwardTraceparent: forward,
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      setUrl('');
      setName('');
      setChosen([]);
      setScheme('hmac-sha256');
      setForward(false);
      onCreated({ secret: created.secret, publicKey: created.signatureScheme === 'ed25519' });
    } catch (err) {
      /** @type {Record<string, string>} */
      const byField = {};
      for (const d of /** @type {any} */ (err).details ?? []) {
        const f = String(d.path ?? '')
          .replace(/^body\./, '')
          .split('.')[0];
        if (f === 'url' || f === 'name' || f === 'eventTypes') byField[f] = d.message;
      }
      if (
        /** @type {any} */ (err).code === 'BLOCKED_ADDRESS' ||
        /** @type {any} */ (err).code === 'INVALID_URL'
      )
        byField.url = /** @type {any} */ (err).message;
      setErrors(byField);
      if (Object.keys(byField).length === 0) setError(err);
    }
  }
  return html`<section class="card" aria-labelledby="new-op-h">
    <h2 id="new-op-h">New operational webhook</h2>
    <${ErrorBanner} error=${error} />
    <form class="form" onSubmit=${submit}>
      <${Field} id="op-url" label="URL" error=${errors.url}>
        <input id="op-url" type="url" required value=${url} onInput=${(e) => setUrl(e.currentTarget.value)} ...${describedBy('op-url', errors.url)} />
      <//>
      <${Field} id="op-name" label="Name (optional)" error=${errors.name}>
        <input id="op-name" type="text" value=${name} onInput=${(e) => setName(e.currentTarget.value)} ...${describedBy('op-name', errors.name)} />
      <//>
      <fieldset class=${`field${errors.eventTypes ? ' has-error' : ''}`}>
        <legend>Event types <span class="muted">(none ticked: all of them)</span></legend>
        <div class="checks">${types.map(
          (
            t,
          ) => html`<label class="check" title=${t.description}><input type="checkbox" checked=${chosen.includes(t.name)}
            onChange=${(e) => toggle(t.name, e.currentTarget.checked)} /> <span class="mono">${t.name}</span></label>`,
        )}</div>
        ${errors.eventTypes ? html`<p class="field-error" data-field-error="op-types">${errors.eventTypes}</p>` : null}
      </fieldset>
      <fieldset class="field">
        <legend>Signature scheme</legend>
        ${SCHEMES.map(
          (s) => html`<label class="check"><input type="radio" name="op-scheme" value=${s.value}
            checked=${scheme === s.value} onChange=${() => setScheme(s.value)} /> ${s.label} <span class="muted">— ${s.hint}</span></label>`,
        )}
      </fieldset>
      <div class="field">
        <label class="check"><input id="op-traceparent" type="checkbox" checked=${forward}
          onChange=${(e) => setForward(e.currentTarget.checked)} /> Forward traceparent
          <span class="muted">— each request carries the W3C trace context of the attempt</span></label>
      </div>
      <button type="submit">Create</button>
    </form>
  </section>`;
}

/** @param {{api: Api, endpoint: Endpoint, onChanged: () => void}} props */
function RowActions({ api, endpoint, onChanged }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const path = `${OPERATIONAL_ENDPOINTS_PATH}/${encodeURIComponent(endpoint.id)}`;
  /** @param {() => Promise<unknown>} action */
  const run = async (action) => {
    setError(null);
    try {
      await action();
      onChanged();
    } catch (err) {
      setError(err);
    }
    setConfirming(false);
  };
  const label = endpoint.name || endpoint.url;
  return html`<span class="row">
    <button type="button" class="secondary" aria-label=${`${endpoint.active ? 'Pause' : 'Resume'} ${label}`}
      onClick=${() => run(() => api.patch(path, { active: !endpoint.active }))}>${endpoint.active ? 'Pause' : 'Resume'}</button>
    ${
      confirming
        ? html`<button type="button" class="danger" onClick=${() => run(() => api.del(path))}>Confirm delete</button>
          <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>`
        : html`<button type="button" class="secondary" aria-label=${`Delete ${label}`} onClick=${() => setConfirming(true)}>Delete</button>`
    }
    ${error ? html`<span class="field-error">${error.message}</span>` : null}
  </span>`;
}

/** @param {{api: Api, base: string}} props */
export function OperationalEndpointsPage({ api, base }) {
  const [created, setCreated] = useState(/** @type {{secret: string, publicKey: boolean} | null} */ (null));
  const { data, error, reload } = useResource(
    async () => {
      /** @type {Page<Endpoint>} */
      const page = await api.get(OPERATIONAL_ENDPOINTS_PATH, { limit: 100 });
      /** @type {{data: OperationalEventType[]}} */
      const types = await api.get('/v1/operational-event-types');
      const ids = page.data.map((e) => e.id);
      const stats = ids.length
        ? await api.get(`${tenantPath(OPERATIONAL_TENANT_ID)}/endpoint-stats`, {
            endpointIds: ids.join(','),
            window: '24h',
          })
        : { data: [] };
      return {
        endpoints: page.data,
        types: types.data,
        stats: new Map(stats.data.map((/** @type {any} */ s) => [s.endpointId, s])),
      };
    },
    [api],
    { pollMs: 10_000 },
  );
  return html`<${PageTitle} sub="Herald tells you about itself: endpoints disabled, circuits opened and closed, deliveries exhausted, endpoints recovered — signed Standard Webhooks, retried and recorded like any delivery">Operational webhooks<//>
    <${ErrorBanner} error=${error} />
    ${
      created
        ? html`<${Notice}>Created. Its ${created.publicKey ? 'public key (Ed25519; receivers verify with it)' : 'signing secret'} (also under the endpoint's page): <code class="secret" data-testid="op-secret">${created.secret}</code> <${CopyButton} text=${created.secret} /><//>`
        : null
    }
    ${
      data
        ? html`<${CreateOperationalEndpoint} api=${api} types=${data.types}
            onCreated=${(/** @type {{secret: string, publicKey: boolean}} */ c) => {
              setCreated(c);
              reload();
            }} />`
        : html`<p>Loading…</p>`
    }
    ${data && data.endpoints.length === 0 ? html`<p class="empty">No operational webhooks yet.</p>` : null}
    ${
      data && data.endpoints.length > 0
        ? html`<div class="table-wrap"><table class="list" aria-label="Operational webhooks">
          <thead><tr><th scope="col">Endpoint</th><th scope="col">Event types</th><th scope="col">State</th><th scope="col">Success (24 h)</th><th scope="col">Last attempt</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            ${data.endpoints.map((e) => {
              const s = data.stats.get(e.id);
              const last = s?.lastAttempt;
              const href = `${base}/endpoints/${encodeURIComponent(e.id)}`;
              return html`<tr>
                <td><a href=${href}>${e.name || e.url}</a>
                  ${e.name ? html`<div class="muted mono">${e.url}</div>` : null}
                  <div><a class="muted" href=${`${base}/deliveries?endpointId=${encodeURIComponent(e.id)}`}>Deliveries</a></div></td>
                <td class="mono">${e.eventTypes.join(', ')}</td>
                <td><${EndpointState} endpoint=${e} failingSince=${s?.failingSince} disablesAt=${s?.disablesAt} /> <${CircuitState} endpoint=${e} /></td>
                <td>${percent(s?.successRate)}${s?.attempts ? html` <span class="muted">of ${s.attempts}</span>` : null}</td>
                <td>${last ? html`${ago(last.startedAt)} <span class="muted">${last.errorKind ?? last.statusCode ?? ''}</span>` : 'never'}</td>
                <td><${RowActions} api=${api} endpoint=${e} onChanged=${reload} /></td>
              </tr>`;
            })}
          </tbody></table></div>`
        : null
    }`;
}

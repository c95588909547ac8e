// @ts-check
// The emulator: send one event of a catalog type to this endpoint now, its example payload editable.
// It starts on a type the endpoint subscribes to (patterns as src/rules/event-type-match.ts reads
// them), since a test of a type the endpoint would never get proves little.
import { describedBy, ErrorBanner, Field } from '../components/field.js';
import { pretty } from '../lib/format.js';
import { html, useEffect, useState } from '../lib/html.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Event} Event */
/** @typedef {import('../lib/api.js').EventType} EventType */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

/** Whether `patterns` (an endpoint's eventTypes: `*`, `prefix.*` or exact names; none = all) take `type`. */
/**
 * @param {string[] | null} patterns
 * @param {string} type
 */
export function subscribes(patterns, type) {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => p === '*' || (p.endsWith('*') ? type.startsWith(p.slice(0, -1)) : p === type));
}

/** @param {{api: Api, path: string, base: string, subscribed: string[]}} props */
export function TestEventForm({ api, path, base, subscribed }) {
  const catalog = useResource(
    /** @returns {Promise<Page<EventType>>} */
    () => api.get('/v1/event-types', { limit: 250 }),
    [api],
  );
  const types = catalog.data?.data ?? [];
  const [type, setType] = useState('');
  const [payload, setPayload] = useState('{}');
  const [payloadError, setPayloadError] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(/** @type {{event: Event, deliveryId: string} | null} */ (null));
  useEffect(() => {
    if (!type && types.length > 0)
      choose((types.find((t) => subscribes(subscribed, t.name)) ?? types[0]).name);
  }, [types.length]);

  function choose(name) {
    setType(name);
    const t = types.find((x) => x.name === name);
    setPayload(pretty(t?.example ?? {}));
  }

  async function send(e) {
    e.preventDefault();
    setError(null);
    setSent(null);
    let data;
    try {
      data = JSON.parse(payload);
    } catch (err) {
      setPayloadError(`Not valid JSON: ${err.message}`);
      return;
    }
    setPayloadError(null);
    try {
      setSent(await api.post(`${path}/test`, { eventType: type, data }));
    } catch (err) {
      setError(err);
      const d = err.details?.find((x) => String(x.path ?? '').match(/^(body\.)?data/));
      if (d) setPayloadError(d.message);
    }
  }

  return html`<section class="card" aria-labelledby="test-h">
    <h2 id="test-h">Send a test event</h2>
    <${ErrorBanner} error=${error ?? catalog.error} />
    ${
      sent
        ? html`<p class="banner ok" role="status">Sent event <span class="mono">${sent.event.id}</span>.
          <a href=${`${base}/deliveries/${encodeURIComponent(sent.deliveryId)}`}>Open its delivery</a></p>`
        : null
    }
    ${
      types.length === 0
        ? html`<p class="muted">The event-type catalog is empty: there is no type to send.</p>`
        : html`<form class="form" onSubmit=${send}>
          <${Field} id="test-type" label="Event type">
            <select id="test-type" value=${type} onChange=${(e) => choose(e.currentTarget.value)}>
              ${types.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
            </select>
          <//>
          <${Field} id="test-data" label="Payload (JSON)" error=${payloadError} hint="The type's example; edit it freely.">
            <textarea id="test-data" rows="8" class="mono" value=${payload} onInput=${(e) => setPayload(e.currentTarget.value)} ...${describedBy('test-data', payloadError, true)}></textarea>
          <//>
          <button type="submit">Send test event</button>
        </form>`
    }
  </section>`;
}

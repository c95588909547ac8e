// "Recover failed deliveries since…": re-queues this endpoint's failed deliveries in a window.
import { ErrorBanner, Field } from '../components/field.js';
import { html, useState } from '../lib/html.js';

// A datetime-local value (local time, minutes) for a Date.
const localValue = (d) => {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

export function RecoverForm({ api, path }) {
  const [since, setSince] = useState(localValue(new Date(Date.now() - 24 * 3600_000)));
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  async function recover(e) {
    e.preventDefault();
    setError(null);
    setResult(null);
    const when = new Date(since);
    if (Number.isNaN(when.getTime())) {
      setError(new Error('Choose a date and time'));
      return;
    }
    try {
      setResult(await api.post(`${path}/recover`, { since: when.toISOString() }));
    } catch (err) {
      setError(err);
    }
  }
  return html`<section class="card" aria-labelledby="recover-h">
    <h2 id="recover-h">Recover failed deliveries</h2>
    <${ErrorBanner} error=${error} />
    ${result ? html`<p class="banner ok" role="status">${result.recovered} failed ${result.recovered === 1 ? 'delivery' : 'deliveries'} re-queued.</p>` : null}
    <form class="form row-form" onSubmit=${recover}>
      <${Field} id="recover-since" label="Failed deliveries created since">
        <input id="recover-since" type="datetime-local" value=${since} onInput=${(e) => setSince(e.currentTarget.value)} />
      <//>
      <button type="submit">Recover</button>
    </form>
  </section>`;
}

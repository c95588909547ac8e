// @ts-check
// "Recover failed deliveries": re-queues this endpoint's failed deliveries created in a time range.
// First asks the API how many that is (`dryRun: true`, which changes nothing) and says it; only the
// confirmation sends them.
import { ErrorBanner, Field } from '../components/field.js';
import { html, useState } from '../lib/html.js';

// A datetime-local value (local time, minutes) for a Date.
const localValue = (d) => {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

const deliveries = (n) => `${n} failed ${n === 1 ? 'delivery' : 'deliveries'}`;

export function RecoverForm({ api, path }) {
  const [since, setSince] = useState(localValue(new Date(Date.now() - 24 * 3600_000)));
  const [until, setUntil] = useState('');
  // The range asked about and how many it holds, awaiting confirmation.
  const [pending, setPending] = useState(
    /** @type {{window: {since: string, until?: string}, count: number} | null} */ (null),
  );
  const [result, setResult] = useState(/** @type {{recovered: number} | null} */ (null));
  const [error, setError] = useState(null);

  function range() {
    const from = new Date(since);
    if (!since || Number.isNaN(from.getTime())) throw new Error('Choose the start of the range');
    if (!until) return { since: from.toISOString() };
    const to = new Date(until);
    if (Number.isNaN(to.getTime())) throw new Error('Choose a valid end of the range, or leave it empty');
    // The end's whole minute: "to 10:05" includes a delivery created at 10:05:40.
    return { since: from.toISOString(), until: new Date(to.getTime() + 59_999).toISOString() };
  }
  async function count(e) {
    e.preventDefault();
    setError(null);
    setResult(null);
    setPending(null);
    try {
      const w = range();
      const { wouldRecover } = await api.post(`${path}/recover`, { ...w, dryRun: true });
      setPending({ window: w, count: wouldRecover });
    } catch (err) {
      setError(err);
    }
  }
  async function recover() {
    if (!pending) return;
    setError(null);
    try {
      setResult(await api.post(`${path}/recover`, pending.window));
    } catch (err) {
      setError(err);
    }
    setPending(null);
  }
  const edit = (fn) => (e) => {
    fn(e.currentTarget.value);
    setPending(null);
  };
  return html`<section class="card" aria-labelledby="recover-h">
    <h2 id="recover-h">Recover failed deliveries</h2>
    <${ErrorBanner} error=${error} />
    ${result ? html`<p class="banner ok" role="status">${deliveries(result.recovered)} re-queued.</p>` : null}
    <form class="form row-form" onSubmit=${count}>
      <${Field} id="recover-since" label="Created from">
        <input id="recover-since" type="datetime-local" value=${since} onInput=${edit(setSince)} />
      <//>
      <${Field} id="recover-until" label="To (empty: now)">
        <input id="recover-until" type="datetime-local" value=${until} onInput=${edit(setUntil)} />
      <//>
      <button type="submit">Recover…</button>
    </form>
    ${
      pending
        ? pending.count === 0
          ? html`<p class="banner ok" role="status">No failed deliveries in that range: nothing to send.</p>`
          : html`<div class="confirm" role="alertdialog" aria-labelledby="recover-confirm">
              <p id="recover-confirm"><strong>${deliveries(pending.count)} will be sent again now.</strong></p>
              <div class="row">
                <button type="button" onClick=${recover}>Send ${deliveries(pending.count)} again</button>
                <button type="button" class="secondary" onClick=${() => setPending(null)}>Cancel</button>
              </div>
            </div>`
        : null
    }
  </section>`;
}

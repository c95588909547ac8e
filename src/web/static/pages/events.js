// @ts-check
// The tenant's events, newest first: find one by its id, or filter by type and a time range — on the
// server (GET …/events?type=&since=&until=), so every page holds only matches.
import { ErrorBanner, Field } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { ApiError, tenantPath } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { hashQuery, navigate } from '../lib/router.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').Event} Event */
/** @typedef {import('../lib/api.js').EventType} EventType */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */

const PAGE = 50;

/** A datetime-local value (local time, minutes) as an ISO instant; '' stays ''. */
export const isoOrEmpty = (local) => {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
};

/** The last second of a datetime-local minute: "until 10:05" includes what happened at 10:05:40. */
const endOfMinute = (local) => {
  const iso = isoOrEmpty(local);
  return iso ? new Date(new Date(iso).getTime() + 59_999).toISOString() : '';
};

function FindById({ api, tenantId, base }) {
  const [id, setId] = useState('');
  const [error, setError] = useState(null);
  async function find(e) {
    e.preventDefault();
    setError(null);
    const wanted = id.trim();
    if (!wanted) return;
    try {
      await api.get(`${tenantPath(tenantId)}/events/${encodeURIComponent(wanted)}`);
      navigate(`${base}/events/${encodeURIComponent(wanted)}`);
    } catch (err) {
      setError(
        err instanceof ApiError && (err.code === 'EVENT_NOT_FOUND' || err.code === 'VALIDATION_FAILED')
          ? new Error(`No event has the id “${wanted}”.`)
          : err,
      );
    }
  }
  return html`<form class="form row-form" role="search" aria-label="Find an event by id" onSubmit=${find}>
    <${Field} id="event-id" label="Event id">
      <input id="event-id" class="mono" value=${id} placeholder="msg_… or your own id" onInput=${(e) => setId(e.currentTarget.value)} />
    <//>
    <button type="submit">Find</button>
    <${ErrorBanner} error=${error} />
  </form>`;
}

/** @param {{api: Api, tenantId: string, base: string}} props */
export function EventsPage({ api, tenantId, base }) {
  const initial = hashQuery();
  const [type, setType] = useState(initial.get('type') ?? '');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [pages, setPages] = useState(1);
  const catalog = useResource(
    /** @returns {Promise<Page<EventType>>} */
    () => api.get('/v1/event-types', { limit: 250 }),
    [api],
  );
  const log = useResource(async () => {
    /** @type {Event[]} */
    const rows = [];
    let cursor;
    for (let i = 0; i < pages; i++) {
      /** @type {Page<Event>} */
      const page = await api.get(`${tenantPath(tenantId)}/events`, {
        limit: PAGE,
        type,
        since: isoOrEmpty(since),
        until: endOfMinute(until),
        cursor,
      });
      rows.push(...page.data);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return { rows, more: Boolean(cursor) };
  }, [api, tenantId, type, since, until, pages]);
  const reset = (fn) => (e) => {
    fn(e.currentTarget.value);
    setPages(1);
  };
  const rows = log.data?.rows ?? [];
  return html`<${PageTitle} sub="Everything published for this tenant, newest first">Events<//>
    <${FindById} api=${api} tenantId=${tenantId} base=${base} />
    <form class="filters" aria-label="Filter events" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="ev-type" label="Event type">
        <select id="ev-type" value=${type} onChange=${reset(setType)}>
          <option value="">any</option>
          ${(catalog.data?.data ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      <//>
      <${Field} id="ev-since" label="From">
        <input id="ev-since" type="datetime-local" value=${since} onChange=${reset(setSince)} />
      <//>
      <${Field} id="ev-until" label="To">
        <input id="ev-until" type="datetime-local" value=${until} onChange=${reset(setUntil)} />
      <//>
    </form>
    <${ErrorBanner} error=${log.error} />
    ${log.loading ? html`<p>Loading…</p>` : null}
    ${log.data && rows.length === 0 ? html`<p class="empty">No events match.</p>` : null}
    ${
      rows.length > 0
        ? html`<div class="table-wrap"><table class="list stack" aria-label="Events">
          <thead><tr><th scope="col">Created</th><th scope="col">Event type</th><th scope="col">Id</th><th scope="col">Origin</th></tr></thead>
          <tbody>
            ${rows.map(
              (e) => html`<tr key=${e.id} data-event-id=${e.id}>
                <td data-label="Created"><a href=${`${base}/events/${encodeURIComponent(e.id)}`} title=${e.createdAt}>${ago(e.createdAt)}</a></td>
                <td data-label="Event type" class="mono">${e.type}</td>
                <td data-label="Id" class="mono">${e.id}</td>
                <td data-label="Origin">${e.origin ?? '—'}</td>
              </tr>`,
            )}
          </tbody></table></div>`
        : null
    }
    ${log.data?.more ? html`<p><button type="button" class="secondary" onClick=${() => setPages(pages + 1)}>Load more</button></p>` : null}`;
}

// @ts-check
// Create or edit an endpoint. The API validates; its refusal's `details` carry the path of each bad
// field (`body.url`, `url`, `headers.X-Foo`), and each is shown at its field.
import { describedBy, ErrorBanner, Field } from '../components/field.js';
import { PageTitle } from '../components/layout.js';
import { tenantPath } from '../lib/api.js';
import { html, useEffect, useState } from '../lib/html.js';
import { navigate } from '../lib/router.js';
import { useResource } from '../lib/use-resource.js';

/** @typedef {import('../lib/api.js').Api} Api */
/** @typedef {import('../lib/api.js').ApiError} ApiError */
/** @typedef {import('../lib/api.js').Endpoint} Endpoint */
/** @typedef {import('../lib/api.js').EventType} EventType */
/** @typedef {import('../lib/api.js').Profile} Profile */
/** @template T @typedef {import('../lib/api.js').Page<T>} Page */
/** @typedef {typeof emptyForm} Form */
/** @typedef {Partial<Record<'_form' | 'name' | 'url' | 'eventTypes' | 'profile' | 'signatureScheme' | 'headers' | 'forwardTraceparent' | 'active', string>>} FieldErrors */

const FIELDS = [
  'name',
  'url',
  'eventTypes',
  'profile',
  'signatureScheme',
  'headers',
  'forwardTraceparent',
  'active',
];

/** How a `standard` endpoint signs (the API's `signatureScheme`), as the forms offer it. */
export const SCHEMES = [
  { value: 'hmac-sha256', label: 'HMAC-SHA256', hint: 'a shared whsec_ secret (the default)' },
  { value: 'ed25519', label: 'Ed25519', hint: 'receivers verify with a whpk_ public key' },
];

/** Field name → message, from an ApiError's details; what matches no field goes to `_form`. */
/**
 * @param {ApiError | null} error
 * @returns {FieldErrors}
 */
export function fieldErrors(error) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const d of error?.details ?? []) {
    const path = String(d.path ?? '').replace(/^body\.?/, '');
    const field = FIELDS.find((f) => path === f || path.startsWith(`${f}.`) || path.startsWith(`${f}[`));
    const key = field ?? '_form';
    const msg = field && path !== field ? `${path.slice(field.length + 1)} ${d.message}` : d.message;
    out[key] = out[key] ? `${out[key]}; ${msg}` : msg;
  }
  if (error && Object.keys(out).length === 0) out._form = error.message;
  return out;
}

const emptyForm = {
  name: '',
  url: '',
  allTypes: true,
  types: /** @type {string[]} */ ([]),
  patterns: '',
  profile: 'standard',
  signatureScheme: 'hmac-sha256',
  headers: /** @type {{name: string, value: string}[]} */ ([]),
  forwardTraceparent: false,
  active: true,
};

/**
 * @param {Endpoint} e
 * @returns {Form}
 */
function fromEndpoint(e) {
  const all = e.eventTypes.length === 0 || e.eventTypes.includes('*');
  return {
    name: e.name ?? '',
    url: e.url,
    allTypes: all,
    types: all ? [] : e.eventTypes.filter((t) => !t.endsWith('*')),
    patterns: all ? '' : e.eventTypes.filter((t) => t.endsWith('*')).join(', '),
    profile: e.profile,
    signatureScheme: e.signatureScheme,
    headers: Object.entries(e.headers ?? {}).map(([name, value]) => ({ name, value })),
    forwardTraceparent: e.forwardTraceparent,
    active: e.active,
  };
}

/**
 * @param {Form} f
 * @param {boolean} editing
 */
function toBody(f, editing) {
  const patterns = f.patterns
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const eventTypes = f.allTypes ? ['*'] : [...f.types, ...patterns];
  /** @type {{url: string, eventTypes: string[], profile: string, headers: Record<string, string>, forwardTraceparent: boolean, active: boolean, name?: string | null, signatureScheme?: string}} */
  const body = {
    url: f.url.trim(),
    eventTypes,
    profile: f.profile,
    headers: Object.fromEntries(f.headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value])),
    forwardTraceparent: f.forwardTraceparent,
    active: f.active,
  };
  if (f.name.trim()) body.name = f.name.trim();
  else if (editing) body.name = null;
  // The scheme picks the kind of key generated at creation; later it changes with the key, by
  // rotating the secret (the endpoint's page). Only the standard profile has a choice.
  if (!editing && f.profile === 'standard') body.signatureScheme = f.signatureScheme;
  return body;
}

/** @param {{api: Api, tenantId: string, base: string, params: Record<string, string>}} props */
export function EndpointFormPage({ api, tenantId, base, params }) {
  const editing = params.endpointId !== undefined;
  const catalog = useResource(
    /** @returns {Promise<Page<EventType>>} */
    () => api.get('/v1/event-types', { limit: 250 }),
    [api],
  );
  // The wire formats as the server describes them (GET /v1/profiles); until they load, the
  // endpoint's own profile is the one choice.
  const profiles = useResource(
    /** @returns {Promise<{data: Profile[]}>} */
    () => api.get('/v1/profiles'),
    [api],
  );
  const existing = useResource(
    /** @returns {Promise<Endpoint> | null} */
    () =>
      editing ? api.get(`${tenantPath(tenantId)}/endpoints/${encodeURIComponent(params.endpointId)}`) : null,
    [api, tenantId, params.endpointId],
  );
  const [form, setForm] = useState(emptyForm);
  const [errors, setErrors] = useState(/** @type {FieldErrors} */ ({}));
  const [apiError, setApiError] = useState(/** @type {ApiError | null} */ (null));
  const [saving, setSaving] = useState(false);
  // The endpoint the form was filled from. Until then an edit shows no form: for one render it
  // would hold the empty form's values (forwarding off, no types), and saving then would write them.
  const [filledFrom, setFilledFrom] = useState(/** @type {Endpoint | null} */ (null));
  useEffect(() => {
    if (!existing.data) return;
    setForm(fromEndpoint(existing.data));
    setFilledFrom(existing.data);
  }, [existing.data]);

  const set = (key) => (e) =>
    setForm({
      ...form,
      [key]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value,
    });
  const toggleType = (name) => (e) =>
    setForm({
      ...form,
      types: e.currentTarget.checked ? [...form.types, name] : form.types.filter((t) => t !== name),
    });
  const setHeader = (i, key) => (e) =>
    setForm({
      ...form,
      headers: form.headers.map((h, j) => (j === i ? { ...h, [key]: e.currentTarget.value } : h)),
    });

  async function submit(e) {
    e.preventDefault();
    setSaving(true);
    setErrors({});
    setApiError(null);
    try {
      const path = `${tenantPath(tenantId)}/endpoints`;
      const saved = editing
        ? await api.patch(`${path}/${encodeURIComponent(params.endpointId)}`, toBody(form, true))
        : await api.post(path, toBody(form, false));
      navigate(`${base}/endpoints/${encodeURIComponent(saved.id)}`);
    } catch (err) {
      setApiError(err);
      setErrors(fieldErrors(err));
      // Move focus to the first field in error so keyboard users land on it.
      setTimeout(
        () => /** @type {HTMLElement | null} */ (document.querySelector('[aria-invalid="true"]'))?.focus(),
        0,
      );
    } finally {
      setSaving(false);
    }
  }

  const types = catalog.data?.data ?? [];
  if (editing && (!existing.data || filledFrom !== existing.data))
    return html`<${PageTitle}>Edit endpoint<//>
      <${ErrorBanner} error=${existing.error ?? catalog.error ?? profiles.error} />
      ${existing.error ? null : html`<p>Loading…</p>`}`;
  return html`<${PageTitle}>${editing ? 'Edit endpoint' : 'New endpoint'}<//>
    <${ErrorBanner} error=${existing.error ?? catalog.error ?? profiles.error} />
    <form class="form" onSubmit=${submit} novalidate>
      ${errors._form ? html`<p class="banner error" role="alert">${errors._form}</p>` : null}
      ${apiError && !errors._form ? html`<p class="banner error" role="alert">The endpoint was not saved: ${apiError.message}</p>` : null}
      <${Field} id="ep-name" label="Name" error=${errors.name} hint="Optional; shown instead of the URL in lists.">
        <input id="ep-name" type="text" value=${form.name} onInput=${set('name')} ...${describedBy('ep-name', errors.name, true)} />
      <//>
      <${Field} id="ep-url" label="URL" error=${errors.url}>
        <input id="ep-url" type="url" required value=${form.url} onInput=${set('url')} placeholder="https://example.com/webhooks" ...${describedBy('ep-url', errors.url)} />
      <//>
      <fieldset class=${`field${errors.eventTypes ? ' has-error' : ''}`} aria-describedby=${errors.eventTypes ? 'ep-types-error' : undefined}>
        <legend>Event types</legend>
        <label class="check"><input type="checkbox" id="ep-all-types" checked=${form.allTypes} onChange=${set('allTypes')} /> All event types</label>
        ${
          form.allTypes
            ? null
            : html`<div class="checks">
              ${types.map(
                (t) =>
                  html`<label class="check"><input type="checkbox" checked=${form.types.includes(t.name)} onChange=${toggleType(t.name)} /> <span class="mono">${t.name}</span></label>`,
              )}
              ${types.length === 0 ? html`<p class="muted">The catalog is empty; use patterns below.</p>` : null}
            </div>
            <label for="ep-patterns">Other types or patterns (comma-separated, e.g. <span class="mono">invoice.*</span>)</label>
            <input id="ep-patterns" type="text" value=${form.patterns} onInput=${set('patterns')} />`
        }
        ${errors.eventTypes ? html`<p class="field-error" id="ep-types-error" data-field-error="eventTypes">${errors.eventTypes}</p>` : null}
      </fieldset>
      <${Field} id="ep-profile" label="Profile (wire format)" error=${errors.profile}>
        <select id="ep-profile" value=${form.profile} onChange=${set('profile')} ...${describedBy('ep-profile', errors.profile)}>
          ${(profiles.data?.data ?? [{ name: form.profile, label: form.profile }]).map(
            (p) => html`<option value=${p.name}>${p.label}</option>`,
          )}
        </select>
      <//>
      ${
        !editing && form.profile === 'standard'
          ? html`<fieldset class=${`field${errors.signatureScheme ? ' has-error' : ''}`} aria-describedby=${errors.signatureScheme ? 'ep-scheme-error' : undefined}>
            <legend>Signature scheme</legend>
            ${SCHEMES.map(
              (s) => html`<label class="check"><input type="radio" name="ep-scheme" value=${s.value}
                checked=${form.signatureScheme === s.value} onChange=${set('signatureScheme')} /> ${s.label} <span class="muted">— ${s.hint}</span></label>`,
            )}
            ${errors.signatureScheme ? html`<p class="field-error" id="ep-scheme-error" data-field-error="signatureScheme">${errors.signatureScheme}</p>` : null}
          </fieldset>`
          : editing && existing.data?.profile === 'standard'
            ? html`<p class="hint" data-testid="ep-scheme-now">Signs with ${SCHEMES.find((s) => s.value === existing.data?.signatureScheme)?.label ?? existing.data.signatureScheme}; rotating the secret on the endpoint's page can change that.</p>`
            : null
      }
      <fieldset class=${`field${errors.headers ? ' has-error' : ''}`}>
        <legend>Extra headers</legend>
        ${form.headers.map(
          (h, i) => html`<div class="row header-row">
            <label class="visually-hidden" for=${`ep-h-name-${i}`}>Header ${i + 1} name</label>
            <input id=${`ep-h-name-${i}`} type="text" placeholder="X-Header" value=${h.name} onInput=${setHeader(i, 'name')} />
            <label class="visually-hidden" for=${`ep-h-value-${i}`}>Header ${i + 1} value</label>
            <input id=${`ep-h-value-${i}`} type="text" placeholder="value" value=${h.value} onInput=${setHeader(i, 'value')} />
            <button type="button" class="secondary" aria-label=${`Remove header ${i + 1}`} onClick=${() => setForm({ ...form, headers: form.headers.filter((_, j) => j !== i) })}>Remove</button>
          </div>`,
        )}
        <button type="button" class="secondary" onClick=${() => setForm({ ...form, headers: [...form.headers, { name: '', value: '' }] })}>Add header</button>
        ${errors.headers ? html`<p class="field-error" data-field-error="headers">${errors.headers}</p>` : null}
      </fieldset>
      <div class=${`field${errors.forwardTraceparent ? ' has-error' : ''}`}>
        <label class="check"><input id="ep-traceparent" type="checkbox" checked=${form.forwardTraceparent} onChange=${set('forwardTraceparent')}
          aria-describedby=${`ep-traceparent-hint${errors.forwardTraceparent ? ' ep-traceparent-error' : ''}`} /> Forward traceparent</label>
        <p class="hint" id="ep-traceparent-hint">Send each attempt the W3C <span class="mono">traceparent</span> and <span class="mono">tracestate</span> headers of the publish's trace (OpenTelemetry), so the receiver can continue it. The signed bytes do not change.</p>
        ${errors.forwardTraceparent ? html`<p class="field-error" id="ep-traceparent-error" data-field-error="forwardTraceparent">${errors.forwardTraceparent}</p>` : null}
      </div>
      <div class="field">
        <label class="check"><input id="ep-active" type="checkbox" checked=${form.active} onChange=${set('active')} /> Active (deliveries are sent)</label>
        ${errors.active ? html`<p class="field-error">${errors.active}</p>` : null}
      </div>
      <div class="row">
        <button type="submit" disabled=${saving}>${saving ? 'Saving…' : editing ? 'Save changes' : 'Create endpoint'}</button>
        <a class="button secondary" href=${editing ? `${base}/endpoints/${encodeURIComponent(params.endpointId)}` : `${base}/endpoints`}>Cancel</a>
      </div>
    </form>`;
}

// @ts-check
// A labelled form control with its hint and its error, tied together for screen readers.
import { html } from '../lib/html.js';

/**
 * @param {{id: string, label: string, error?: string, hint?: string, children: unknown}} props
 * The child control must carry the same `id`; use `describedBy(id, error, hint)` for its aria props.
 */
export function Field({ id, label, error, hint, children }) {
  return html`<div class=${`field${error ? ' has-error' : ''}`}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" id=${`${id}-error`} data-field-error=${id}>${error}</p>` : null}
  </div>`;
}

export function describedBy(id, error, hint) {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return {
    'aria-invalid': error ? 'true' : undefined,
    'aria-describedby': ids.length ? ids.join(' ') : undefined,
  };
}

/** A refusal shown above a form or a page; `role=alert` so it is announced. */
export function ErrorBanner({ error }) {
  if (!error) return null;
  const message = error.code ? `${error.message} (${error.code})` : String(error.message ?? error);
  return html`<p class="banner error" role="alert">${message}</p>`;
}

export function Notice({ children }) {
  return html`<p class="banner ok" role="status">${children}</p>`;
}

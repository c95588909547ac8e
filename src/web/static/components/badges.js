// States as words with a colour, never colour alone.
import { ago } from '../lib/format.js';
import { html } from '../lib/html.js';

export function StatusBadge({ status }) {
  return html`<span class=${`badge badge-${status}`}>${status}</span>`;
}

/** An endpoint's state: active, failing since…, or disabled (and why). */
export function EndpointState({ endpoint, failingSince }) {
  if (!endpoint.active) {
    const why = endpoint.disabledReason ? `: ${endpoint.disabledReason}` : '';
    return html`<span class="badge badge-failed" title=${endpoint.disabledAt ?? ''}>disabled${why}</span>`;
  }
  if (failingSince)
    return html`<span class="badge badge-pending">failing for ${ago(failingSince).replace(' ago', '')}</span>`;
  return html`<span class="badge badge-succeeded">active</span>`;
}

// @ts-check
// States as words with a colour, never colour alone.
import { ago, clockTime, formatTime } from '../lib/format.js';
import { html } from '../lib/html.js';

export function StatusBadge({ status }) {
  return html`<span class=${`badge badge-${status}`}>${status}</span>`;
}

/** An endpoint's state: active, failing since…, or disabled (and why). */
export function EndpointState({ endpoint, failingSince, disablesAt }) {
  if (!endpoint.active) {
    const why = endpoint.disabledReason ? `: ${endpoint.disabledReason}` : '';
    return html`<span class="badge badge-failed" title=${endpoint.disabledAt ?? ''}>disabled${why}</span>`;
  }
  if (failingSince) {
    // Auto-disable (HERALD_DISABLE_AFTER): when it happens if nothing succeeds before.
    const until = disablesAt ? ` · disabled ${formatTime(disablesAt)} if it keeps failing` : '';
    return html`<span class="badge badge-pending">failing for ${ago(failingSince).replace(' ago', '')}${until}</span>`;
  }
  return html`<span class="badge badge-succeeded">active</span>`;
}

/**
 * The circuit breaker and adaptive limit of an active endpoint (`endpoint.health`): nothing while
 * the circuit is closed and the endpoint is not throttled, which is the normal case.
 */
export function CircuitState({ endpoint }) {
  const health = endpoint.health;
  // An inactive endpoint is not claimed at all, and re-enabling it resets its circuit.
  if (!health || !endpoint.active) return null;
  const badges = [];
  if (health.circuit === 'open') {
    const why = health.circuitReason ? ` — ${health.circuitReason}` : '';
    badges.push(
      html`<span class="badge badge-failed badge-long" data-testid="circuit" title=${`opened ${formatTime(health.circuitOpenedAt)}`}>circuit open until ${clockTime(health.circuitUntil)}${why}</span>`,
    );
  } else if (health.circuit === 'half_open') {
    badges.push(
      html`<span class="badge badge-pending" data-testid="circuit" title=${health.circuitReason ?? ''}>half-open (probing)</span>`,
    );
  }
  // Throttled: held below the maximum because it is failing (a new endpoint starts below it too).
  if (
    health.concurrencyLimit !== null &&
    health.concurrencyLimit !== undefined &&
    health.consecutiveFailures > 0
  ) {
    badges.push(
      html`<span class="badge badge-pending" data-testid="throttled">throttled to ${health.concurrencyLimit} in flight</span>`,
    );
  }
  return badges.length ? html`<span class="badges">${badges}</span>` : null;
}

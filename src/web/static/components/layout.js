// @ts-check
// The frame of every page: a header with the app's name and navigation, then the page.
import { html } from '../lib/html.js';

/**
 * @param {{title: unknown, subtitle?: unknown, nav: {href: string, label: string, current?: boolean}[],
 *   actions?: unknown, children: unknown}} props
 */
export function Layout({ title, subtitle, nav, actions, children }) {
  return html`<a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <div class="brand">${title}${subtitle ? html` <span class="subtitle">${subtitle}</span>` : null}</div>
      <nav aria-label="Main">
        <ul>
          ${nav.map(
            (n) =>
              html`<li><a href=${n.href} aria-current=${n.current ? 'page' : undefined}>${n.label}</a></li>`,
          )}
        </ul>
      </nav>
      ${actions ? html`<div class="actions">${actions}</div>` : null}
    </header>
    <main id="main" tabindex="-1">${children}</main>`;
}

// The skip link must not change the hash route.
function skip(e) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

export function PageTitle({ children, sub }) {
  return html`<div class="page-title"><h1>${children}</h1>${sub ? html`<p class="sub">${sub}</p>` : null}</div>`;
}

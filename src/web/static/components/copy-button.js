// @ts-check
import { html, useState } from '../lib/html.js';

/** Copies `text` to the clipboard and says so. */
export function CopyButton({ text, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      setDone(false);
    }
  }
  return html`<button type="button" class="secondary" onClick=${copy}>${done ? 'Copied' : label}</button>
    <span class="visually-hidden" aria-live="polite">${done ? 'Copied to the clipboard' : ''}</span>`;
}

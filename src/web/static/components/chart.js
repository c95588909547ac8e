// @ts-check
// Small inline-SVG bar charts: no chart library, scales with its container, and a text summary for
// screen readers (the SVG is an image with a label; the numbers are in a table behind a toggle).
import { html } from '../lib/html.js';

const W = 600;
const H = 160;
const PAD = { top: 8, right: 8, bottom: 22, left: 44 };

/**
 * Round gridlines: a step of 1, 2 or 5 × 10^k (whole numbers only, for counts) giving at most four
 * intervals, and a top that is a whole number of steps at or above `max` — 0/5/10/15/20/25, not 0/11/21.
 * @param {number} max
 */
export function ticks(max) {
  const rough = Math.max(max, 1) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const out = [];
  for (let t = 0; t <= top + step / 2; t += step) out.push(t);
  return out;
}

/**
 * Stacked bars. `buckets` are `{start, ...values}`; `series` are `{key, label, cls}`.
 * @param {{title: string, buckets: object[], series: {key: string, label: string, cls: string}[],
 *   max?: number, format?: (n: number) => string}} props
 */
export function BarChart({ title, buckets, series, max, format = (n) => String(Math.round(n)) }) {
  const totals = buckets.map((b) => series.reduce((n, s) => n + (b[s.key] ?? 0), 0));
  const grid = ticks(max ?? Math.max(1, ...totals));
  const top = grid[grid.length - 1];
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = innerW / Math.max(1, buckets.length);
  const barW = Math.max(1, step * 0.8);
  const y = (v) => PAD.top + innerH - (v / top) * innerH;
  const label = (b) =>
    new Date(b.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const summary = `${title}: ${series
    .map((s) => `${s.label} ${format(buckets.reduce((n, b) => n + (b[s.key] ?? 0), 0))}`)
    .join(', ')}`;
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${summary} preserveAspectRatio="none">
      ${grid.map(
        (t) => html`<g>
          <line class="grid" x1=${PAD.left} x2=${W - PAD.right} y1=${y(t)} y2=${y(t)} />
          <text class="axis" x=${PAD.left - 4} y=${y(t) + 4} text-anchor="end">${format(t)}</text>
        </g>`,
      )}
      ${buckets.map((b, i) => {
        let base = 0;
        return html`<g>
          <title>${label(b)} — ${series.map((s) => `${s.label}: ${format(b[s.key] ?? 0)}`).join(', ')}</title>
          ${series.map((s) => {
            const v = b[s.key] ?? 0;
            const y0 = y(base);
            base += v;
            const y1 = y(base);
            return v > 0
              ? html`<rect class=${s.cls} x=${PAD.left + i * step} y=${y1} width=${barW} height=${Math.max(0.5, y0 - y1)} />`
              : null;
          })}
        </g>`;
      })}
      ${
        buckets.length > 0
          ? html`<text class="axis" x=${PAD.left} y=${H - 6}>${label(buckets[0])}</text>
            <text class="axis" x=${W - PAD.right} y=${H - 6} text-anchor="end">${label(buckets[buckets.length - 1])}</text>`
          : null
      }
    </svg>
    <ul class="legend">
      ${series.map((s) => html`<li><span class=${`swatch ${s.cls}`}></span>${s.label}</li>`)}
    </ul>
  </figure>`;
}

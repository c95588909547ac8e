/** Plain-text output for the CLI: aligned tables and key/value blocks, readable in a terminal. */
import { type Palette, palette } from '../core/colour.ts';
import { printable } from '../core/printable.ts';

export { printable };

export type Row = Record<string, unknown>;

/** A cell as text: dates and nulls shortened, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '-' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',') || '-';
  return JSON.stringify(value);
}

const PLAIN = palette(false);

/**
 * Columns padded to their widest cell, a header line in capitals (bold with a colour palette).
 * Cells are escaped before they are measured, so the columns line up with what is printed.
 *
 * @example table([{ id: 'acme', name: 'Acme' }], ['id', 'name'])
 */
export function table(rows: readonly Row[], columns: readonly string[], style: Palette = PLAIN): string {
  const header = columns.map((c) => c.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
  const body = rows.map((r) => columns.map((c) => printable(cell(r[c]).replace(/\s+/g, ' '))));
  const widths = columns.map((_, i) => Math.max(header[i]!.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((v, i) => (i === cells.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...body.map(line)].join('\n');
}

/** One resource as `key  value` lines, keys aligned (and bold with a colour palette). */
export function details(
  row: Row,
  keys: readonly string[] = Object.keys(row),
  style: Palette = PLAIN,
): string {
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${style.bold(printable(k.padEnd(width)))}  ${printable(cell(row[k]))}`).join('\n');
}

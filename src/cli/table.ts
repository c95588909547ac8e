/** Plain-text output for the CLI: aligned tables and key/value blocks, readable in a terminal. */

export type Row = Record<string, unknown>;

// C0 controls but tab and newline, DEL, and C1 controls (0x80–0x9f: CSI and others on many terminals).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with control characters shown as `\u001b`-style escapes, so what others wrote (endpoint
 * names, a receiver's error text, a webhook body any local web page can POST to `herald listen`)
 * cannot move the cursor, recolour or retitle the terminal (issue 16).
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A cell as text: dates and nulls shortened, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '-' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',') || '-';
  return JSON.stringify(value);
}

/**
 * Columns padded to their widest cell, a header line in capitals.
 *
 * @example table([{ id: 'acme', name: 'Acme' }], ['id', 'name'])
 */
export function table(rows: readonly Row[], columns: readonly string[]): string {
  const header = columns.map((c) => c.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
  const body = rows.map((r) => columns.map((c) => cell(r[c]).replace(/\s+/g, ' ')));
  const widths = columns.map((_, i) => Math.max(header[i]!.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((v, i) => (i === cells.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return printable([line(header), ...body.map(line)].join('\n'));
}

/** One resource as `key  value` lines, keys aligned. */
export function details(row: Row, keys: readonly string[] = Object.keys(row)): string {
  const width = Math.max(...keys.map((k) => k.length));
  return printable(keys.map((k) => `${k.padEnd(width)}  ${cell(row[k])}`).join('\n'));
}

/**
 * Colour for the CLI's output and the server's terminal logs: on when the stream is a terminal,
 * off when piped, `NO_COLOR` (https://no-color.org) turning it off and `FORCE_COLOR` on. The rule is
 * commander's own, so `--help` and everything else agree.
 */

export interface ColourStream {
  isTTY?: boolean | undefined;
}

/**
 * Whether to write ANSI colour to `stream`. `NO_COLOR` (any non-empty value) wins; then
 * `FORCE_COLOR` (`0`/`false` off, anything else on); then a terminal that is not `TERM=dumb`.
 *
 * @example useColour(process.stderr) // true in a terminal, false in `herald … 2>err.txt`
 */
export function useColour(stream: ColourStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

export interface Palette {
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const sgr = (on: number, off: number) => (text: string) => `\u001b[${on}m${text}\u001b[${off}m`;
const plain = (text: string) => text;

/** The colours, or the identity when `enabled` is false: callers never check twice. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { red: plain, yellow: plain, green: plain, bold: plain, dim: plain };
  return { red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), bold: sgr(1, 22), dim: sgr(2, 22) };
}

/** The palette for one of this process's streams. */
export function paletteFor(stream: ColourStream, env: NodeJS.ProcessEnv = process.env): Palette {
  return palette(useColour(stream, env));
}

/**
 * Text from others made safe for a terminal: what endpoints, receivers and webhook senders wrote
 * reaches the CLI's output and the server's readable logs (issue 16).
 */

// C0 controls but tab and newline, DEL, and C1 controls (0x80–0x9f: CSI and others on many terminals).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with control characters shown as `\u001b`-style escapes, so what others wrote (endpoint
 * names, a receiver's error text, a webhook body any local web page can POST to `herald listen`)
 * cannot move the cursor, recolour or retitle the terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Logging: pino, for the process and through Fastify, with keys and secrets redacted wherever they
 * might appear. JSON lines for log collectors; on a terminal (or `HERALD_LOG_FORMAT=pretty`) one
 * readable line per record instead — time, level, message, the fields that matter — written by the
 * small destination below rather than a dependency (pino-pretty would bring a dozen).
 */
import pino, { type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/config.ts';
import { type ColourStream, type Palette, paletteFor } from '../core/colour.ts';
import { printable } from '../core/printable.ts';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.secret',
  '*.token',
  '*.password',
  '*.clientSecret',
  '*.adminKey',
];

export interface LogOutput extends ColourStream {
  write(text: string): unknown;
}

/** Whether records go out as readable lines: `pretty`, or `auto` on a terminal. */
export function readableLogs(format: LogFormat, out: ColourStream): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/**
 * pino's options (Fastify takes the same): level, redaction, and — for readable logs — the stream
 * that rewrites each JSON record as a line.
 */
export function loggerOptions(
  level: LogLevel,
  format: LogFormat = 'auto',
  out: LogOutput = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
) {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(readableLogs(format, out) ? { stream: readableStream(out, paletteFor(out, env)) } : {}),
  };
}

/** The process's logger, as loggerOptions describes it. */
export function createLogger(
  level: LogLevel,
  format: LogFormat = 'auto',
  out: LogOutput = process.stdout,
): Logger {
  const { stream, ...options } = loggerOptions(level, format, out);
  return stream ? pino(options, stream) : pino(options);
}

/** A pino destination writing each record to `out` as formatRecord's line. */
export function readableStream(out: LogOutput, style: Palette): { write(record: string): void } {
  return { write: (record) => void out.write(formatRecord(record, style)) };
}

const LEVELS: Record<number, [string, keyof Palette | undefined]> = {
  10: ['TRACE', 'dim'],
  20: ['DEBUG', 'dim'],
  30: ['INFO', 'green'],
  40: ['WARN', 'yellow'],
  50: ['ERROR', 'red'],
  60: ['FATAL', 'red'],
};

/** pino's own fields, shown in the line's head or not at all. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time of day, `HH:MM:SS.mmm`: a terminal is read by someone on this machine, now. */
function timeOfDay(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** A record's fields as `key=value`, Fastify's request and response shortened to what is read. */
function fields(record: Record<string, unknown>): { text: string[]; stack?: string } {
  const text: string[] = [];
  let stack: string | undefined;
  for (const [key, v] of Object.entries(record)) {
    if (OMITTED.has(key) || v === undefined) continue;
    const obj = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
    if (key === 'req' && obj && 'method' in obj) text.push(`${obj['method']} ${obj['url']}`);
    else if (key === 'res' && obj && 'statusCode' in obj) text.push(`→ ${obj['statusCode']}`);
    else if (key === 'responseTime' && typeof v === 'number') text.push(`${v.toFixed(1)}ms`);
    else if (key === 'err' && obj) {
      text.push(`err=${value(obj['message'] ?? obj['type'])}`);
      if (typeof obj['stack'] === 'string') stack = obj['stack'];
    } else text.push(`${key}=${value(v)}`);
  }
  return stack === undefined ? { text } : { text, stack };
}

/**
 * One pino JSON record as a readable line: `12:00:00.123 INFO  request completed  GET /v1/… → 200`.
 * A line that is not JSON passes through unchanged; what others wrote is escaped (core/printable).
 *
 * @example formatRecord('{"level":40,"time":1767268800123,"msg":"slow"}', palette(false)) // '12:00:00.123 WARN  slow\n' (UTC)
 */
export function formatRecord(record: string, style: Palette): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record);
  } catch {
    return record;
  }
  if (typeof parsed !== 'object' || parsed === null) return record;
  const r = parsed as Record<string, unknown>;
  const [label, colour] = LEVELS[Number(r['level'])] ?? [String(r['level'] ?? '?').toUpperCase(), undefined];
  const head = `${style.dim(timeOfDay(Number(r['time'] ?? Date.now())))} ${(colour ? style[colour] : String)(label.padEnd(5))}`;
  const { text, stack } = fields(r);
  const msg = typeof r['msg'] === 'string' ? r['msg'] : '';
  const line = printable([msg, text.join(' ')].filter(Boolean).join('  '));
  const trace = stack ? `\n${style.dim(printable(stack).replace(/^/gm, '    '))}` : '';
  return `${head} ${line}${trace}\n`;
}

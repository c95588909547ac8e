/**
 * The values options take (config.ts): whole numbers in a range, booleans, durations, CIDR lists,
 * base64 keys, portal branding. Each parser names the option it read in its ConfigError.
 */
import { isIP } from 'node:net';

export class ConfigError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid ${option}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function integer(min: number, max: number) {
  return (raw: string, name: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `"${raw}" is not a whole number`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`);
    return n;
  };
}

export function boolean(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw new ConfigError(name, `"${raw}" is not true or false`);
}

export function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === '') throw new ConfigError(name, 'must not be empty');
  return raw;
}

/**
 * A number of seconds as the README and `--help` write durations: the largest unit that divides it
 * exactly.
 *
 * @example formatDuration(432000) // '5d'
 * @example formatDuration(90) // '90s'
 */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Durations like `5d`, `12h`, `30m`, `90s` or plain seconds; the inverse of formatDuration. */
export function parseDuration(raw: string, name: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(name, `"${raw}" is not a duration like 90s, 30m, 12h or 5d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  if (seconds < 1) throw new ConfigError(name, 'must be at least one second');
  return seconds;
}

/** A portal branding value (portal-branding.ts), refused as the API refuses it. */
export function branded(problem: (raw: string) => string | undefined) {
  return (raw: string, name: string): string => {
    const why = problem(raw);
    if (why) throw new ConfigError(name, why);
    return raw;
  };
}

/** A comma-separated list's items, trimmed, empty ones dropped. */
const listItems = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function cidrList(raw: string, name: string): string[] {
  const items = listItems(raw);
  for (const item of items) {
    const [addr, bits] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    if (!family || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) {
      throw new ConfigError(name, `"${item}" is not a CIDR like 10.0.0.0/8`);
    }
  }
  return items;
}

export function base64Key(raw: string, name: string): string {
  if (Buffer.from(raw, 'base64').length !== 32) throw new ConfigError(name, 'must be 32 bytes, base64');
  return raw;
}

export function base64KeyList(raw: string, name: string): string[] {
  const items = listItems(raw);
  for (const item of items) base64Key(item, name);
  return items;
}

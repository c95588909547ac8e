/**
 * What every API command shares: `--url`, `--api-key` and `--json`, the client built from them,
 * and the exit codes (0 ok, 1 the API refused: `code: message`, 2 usage error).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { HeraldApiError } from '../../client/api-error.ts';
import { createClient, type HeraldClient } from '../../client/client.ts';
import { paletteFor } from '../../core/colour.ts';
import { details, type Row, table } from '../table.ts';
import { printError, UsageError, usageExits } from '../usage.ts';

export { UsageError, usageExits };

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ApiOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
}

/** Where API keys come from, for the message when there is none (and the hint when one is refused). */
export const WHERE_KEYS_COME_FROM =
  'give --api-key or HERALD_API_KEY, or run where the embedded server keeps its admin key ' +
  '(./herald-data/admin-key, or $HERALD_DATA_DIR/admin-key); a key for one tenant comes from ' +
  '`herald tenants create-key <tenant>`';

/** Where this invocation's key came from, named in the hint when the API refuses it. */
let keySource = '';

/** The API key: the flag, HERALD_API_KEY, or the embedded admin key file in the data directory. */
function resolveApiKey(given: string | undefined): string | undefined {
  if (given) {
    keySource = '--api-key or HERALD_API_KEY';
    return given;
  }
  const file = join(process.env['HERALD_DATA_DIR'] ?? 'herald-data', 'admin-key');
  if (!existsSync(file)) return undefined;
  keySource = file;
  return readFileSync(file, 'utf8').trim();
}

/** The client for these options; a UsageError (exit 2) naming where keys come from when there is none. */
export function clientFor(opts: ApiOptions): HeraldClient {
  const apiKey = resolveApiKey(opts.apiKey);
  if (!apiKey) throw new UsageError(`no API key: ${WHERE_KEYS_COME_FROM}`);
  return createClient({ baseUrl: opts.url, apiKey });
}

/** Adds the shared options to a command that talks to the API. */
export function apiCommand(parent: Command, nameAndArgs: string, description: string): Command {
  const cmd = parent.command(nameAndArgs).description(description);
  cmd.addOption(new Option('--url <url>', 'Herald API base URL').env('HERALD_URL').default(DEFAULT_URL));
  cmd.addOption(
    new Option('--api-key <key>', 'API key (default: ./herald-data/admin-key when present)').env(
      'HERALD_API_KEY',
    ),
  );
  cmd.option('--json', 'print the API answer as JSON');
  return cmd;
}

/** Adds `--tenant` (env HERALD_TENANT), required. */
export function withTenant(cmd: Command): Command {
  return cmd.addOption(new Option('--tenant <id>', 'tenant id').env('HERALD_TENANT').makeOptionMandatory());
}

/** Adds `--limit` and `--cursor`. */
export function withPaging(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'page size (≤ 250)', (v) => positiveInt('--limit', v))
    .option('--cursor <cursor>', 'the next-page cursor a previous list printed');
}

/** An argument parser: commander reports its InvalidArgumentError as a usage error (exit 2). */
export function positiveInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`${flag} must be a positive integer`);
  }
  return Number(value);
}

/** Parses a JSON flag value, which must be an object. */
export function jsonObject(flag: string, value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`${flag} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${flag} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Prints a page: a table (and how to get the next one), or the whole answer as JSON. */
export function printPage(
  opts: ApiOptions,
  page: { data: readonly object[]; nextCursor: string | null },
  columns: readonly string[],
): void {
  if (opts.json) write(JSON.stringify(page, null, 2));
  else if (page.data.length === 0) write('(none)');
  else write(table(page.data as Row[], columns, paletteFor(process.stdout)));
  if (!opts.json && page.nextCursor) write(`\nmore: --cursor ${page.nextCursor}`);
}

/** Prints one resource: aligned key/value lines, or JSON. */
export function printOne(opts: ApiOptions, value: object, keys?: readonly string[]): void {
  write(opts.json ? JSON.stringify(value, null, 2) : details(value as Row, keys, paletteFor(process.stdout)));
}

/** Prints a short confirmation (or `{}` with --json, so scripts can always parse the output). */
export function printDone(opts: ApiOptions, message: string, value: object = {}): void {
  write(opts.json ? JSON.stringify(value, null, 2) : message);
}

/**
 * Wraps a command's action with the exit codes: API refusals print `code: message` and exit 1,
 * usage errors exit 2.
 */
export function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof HeraldApiError) {
        const c = paletteFor(process.stderr);
        process.stderr.write(`${c.bold(c.red(err.code))}: ${err.message}\n`);
        for (const d of err.details) process.stderr.write(`  ${d.path ? `${d.path}: ` : ''}${d.message}\n`);
        if (err.status === 401 && keySource) process.stderr.write(`  the key came from ${keySource}\n`);
        process.exitCode = 1;
      } else if (err instanceof UsageError || err instanceof CommanderError) {
        printError(err.message);
        process.exitCode = 2;
      } else {
        printError((err as Error)?.stack ?? String(err));
        process.exitCode = 1;
      }
    }
  };
}

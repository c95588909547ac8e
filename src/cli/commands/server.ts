/**
 * `herald serve|api|worker|migrate`: running Herald itself. Only config.ts is loaded when this
 * module is: the server (fastify, pg, PGlite) is imported when one of these commands runs, so
 * registering them — for `herald --help` — costs nothing.
 */
import { type Command, Option } from 'commander';
import { loadConfig, OPTIONS } from '../../config/config.ts';
import { ConfigError, formatDuration } from '../../config/option-values.ts';
import type { Roles } from '../../server/start.ts';
import { printError } from '../usage.ts';

/** What `--help` shows as an option's default: durations as written in the README (`5d`, `30s`). */
function defaultText(opt: (typeof OPTIONS)[number]): string {
  if (opt.default === undefined || (Array.isArray(opt.default) && opt.default.length === 0)) return '';
  const shown = 'duration' in opt && opt.duration ? formatDuration(opt.default as number) : opt.default;
  return ` (default ${shown})`;
}

export function addConfigOptions(cmd: Command): Command {
  for (const opt of OPTIONS) {
    const takesValue = opt.key !== 'allowPrivateNetworks';
    const flag = takesValue ? `--${opt.flag} <value>` : `--${opt.flag} [bool]`;
    cmd.addOption(new Option(flag, `${opt.description}${defaultText(opt)}`).env(opt.env).argParser((v) => v));
  }
  return cmd;
}

// Matched by name, not instanceof: importing the classes would load the storage drivers.
const ONE_LINE_ERRORS = new Set(['ConfigError', 'DataDirLockedError', 'StartupError']);

/** Exits 2 with one line naming the bad option, as docs/design.md ("Processes") promises of configuration errors. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError || (err instanceof Error && ONE_LINE_ERRORS.has(err.name))) {
    printError(err.message);
    process.exit(2);
  }
  printError((err as Error)?.stack ?? String(err));
  process.exit(1);
}

export function flagsOf(cmd: Command): Record<string, string | boolean | undefined> {
  // Environment values reach loadConfig through process.env; only real flags are passed as flags.
  const opts = cmd.opts();
  const flags: Record<string, string | boolean | undefined> = {};
  for (const opt of OPTIONS) {
    if (cmd.getOptionValueSource(opt.key) === 'cli')
      flags[opt.key] = opts[opt.key] === true ? 'true' : opts[opt.key];
  }
  return flags;
}

async function run(cmd: Command, roles: Roles): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(flagsOf(cmd), process.env);
  } catch (err) {
    fail(err);
  }
  let herald: Awaited<ReturnType<typeof import('../../server/start.ts').startHerald>>;
  try {
    const { startHerald } = await import('../../server/start.ts');
    herald = await startHerald(config, roles);
  } catch (err) {
    fail(err);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Herald: ${signal} received, draining\n`);
    herald.stop().then(
      () => process.exit(0),
      (err) => fail(err),
    );
  };
  // Before the running line: whoever reads it (a supervisor, a test) may signal at once, and stdout
  // to a pipe is written synchronously — a signal between the line and the handlers killed the
  // process without draining.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const what = [roles.api && 'API', roles.worker && 'dispatcher'].filter(Boolean).join(' + ');
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded storage in ${config.dataDir}`;
  process.stdout.write(`Herald ${what} running${herald.url ? ` on ${herald.url}` : ''} (${where})\n`);
}

async function migrateOnly(cmd: Command): Promise<void> {
  try {
    const config = loadConfig(flagsOf(cmd), process.env);
    const { openStorage } = await import('../../server/open-storage.ts');
    const { migrate } = await import('../../db/migrate.ts');
    const storage = await openStorage(config);
    try {
      const applied = await migrate(storage.db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await storage.close();
    }
  } catch (err) {
    fail(err);
  }
}

/** The roles, and the description each has in `herald --help` (main.ts lists them without loading this). */
export const SERVER_COMMANDS = {
  serve: { api: true, worker: true },
  api: { api: true, worker: false },
  worker: { api: false, worker: true },
} satisfies Record<string, Roles>;

export function registerServerCommand(program: Command, name: string, description: string): void {
  const cmd = addConfigOptions(program.command(name).description(description));
  if (name === 'migrate') cmd.action((_opts, c: Command) => migrateOnly(c));
  else cmd.action((_opts, c: Command) => run(c, SERVER_COMMANDS[name as keyof typeof SERVER_COMMANDS]));
}

/**
 * The `herald` command line: run the service (`serve`, `api`, `worker`), apply migrations.
 */
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, OPTIONS } from '../config/config.ts';
import { DataDirLockedError } from '../db/data-dir.ts';
import { migrate } from '../db/migrate.ts';
import { openStorage } from '../server/open-storage.ts';
import { type Roles, startHerald } from '../server/start.ts';
import { StartupError } from '../server/startup-error.ts';
import { registerDeliveries } from './commands/deliveries.ts';
import { registerEndpoints } from './commands/endpoints.ts';
import { registerEvents, registerSend } from './commands/events.ts';
import { registerListen } from './commands/listen.ts';
import { registerProfiles } from './commands/profiles.ts';
import { registerRotateEncryptionKey } from './commands/rotate-encryption-key.ts';
import { registerTenants } from './commands/tenants.ts';

/** The package's version, from package.json (one source). */
const HERALD_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

function addConfigOptions(cmd: Command): Command {
  for (const opt of OPTIONS) {
    const takesValue = opt.key !== 'allowPrivateNetworks';
    const flag = takesValue ? `--${opt.flag} <value>` : `--${opt.flag} [bool]`;
    const def =
      opt.default === undefined || (Array.isArray(opt.default) && opt.default.length === 0)
        ? ''
        : ` (default ${opt.default})`;
    cmd.addOption(new Option(flag, `${opt.description}${def}`).env(opt.env).argParser((v) => v));
  }
  return cmd;
}

/** Exits 2 with one line naming the bad option, as docs/design.md ("Processes") promises of configuration errors. */
function fail(err: unknown): never {
  if (err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof StartupError) {
    process.stderr.write(`herald: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`herald: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

function flagsOf(cmd: Command): Record<string, string | boolean | undefined> {
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
  let herald: Awaited<ReturnType<typeof startHerald>>;
  try {
    herald = await startHerald(config, roles);
  } catch (err) {
    fail(err);
  }
  const what = [roles.api && 'API', roles.worker && 'dispatcher'].filter(Boolean).join(' + ');
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded storage in ${config.dataDir}`;
  process.stdout.write(`Herald ${what} running${herald.url ? ` on ${herald.url}` : ''} (${where})\n`);
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
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const program = new Command('herald')
  .version(HERALD_VERSION, '-V, --version', "print Herald's version")
  .description(
    'Herald — self-hosted webhook delivery: publish events, Herald signs, delivers, retries and logs them.',
  )
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  herald serve                                  API + dispatcher on 127.0.0.1:8080, embedded storage in ./herald-data
  DATABASE_URL=postgres://… HERALD_ADMIN_KEY=… HERALD_ENCRYPTION_KEY=… herald serve
  herald worker --database-url postgres://…     one more dispatcher sharing the same PostgreSQL
  herald migrate                                apply database migrations and exit

Every option can also be given as the environment variable shown; flags win.`,
  );

addConfigOptions(
  program.command('serve').description('run the HTTP API and the dispatcher in one process'),
).action((_opts, cmd: Command) => run(cmd, { api: true, worker: true }));
addConfigOptions(program.command('api').description('run only the HTTP API')).action((_opts, cmd: Command) =>
  run(cmd, { api: true, worker: false }),
);
addConfigOptions(program.command('worker').description('run only the dispatcher (delivers webhooks)')).action(
  (_opts, cmd: Command) => run(cmd, { api: false, worker: true }),
);
addConfigOptions(program.command('migrate').description('apply database migrations and exit')).action(
  async (_opts, cmd: Command) => {
    try {
      const config = loadConfig(flagsOf(cmd), process.env);
      const storage = await openStorage(config);
      try {
        const applied = await migrate(storage.db);
        process.stdout.write(
          applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n',
        );
      } finally {
        await storage.close();
      }
    } catch (err) {
      fail(err);
    }
  },
);

registerRotateEncryptionKey(program, { addConfigOptions, flagsOf, fail });
registerListen(program);
registerSend(program);
registerTenants(program);
registerEndpoints(program);
registerEvents(program);
registerDeliveries(program);
registerProfiles(program);
await program.parseAsync(process.argv);

/**
 * The `herald` program: every command listed, and only the one being run loaded (src/cli/main.ts
 * runs it).
 *
 * Start-up time is the point of this file's shape: a command's module is imported only when that
 * command runs (the server's — fastify, pg, PGlite — only for the server commands), so `herald
 * tenants list` loads the client and commander and nothing else. `--help` lists every command from
 * the table below without loading any of them.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { usageExitsEverywhere } from './usage.ts';

/** The package's version, from package.json (one source). */
const HERALD_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

interface CommandEntry {
  name: string;
  /** Shown by `herald --help`; the command's own module gives the same one (test/cli/cli-usage.test.ts). */
  description: string;
  /** Loads the command's module and registers the command on the program. */
  register(program: Command, entry: CommandEntry): Promise<void>;
}

const server = (name: string, description: string): CommandEntry => ({
  name,
  description,
  register: async (program) =>
    (await import('./commands/server.ts')).registerServerCommand(program, name, description),
});

export const COMMANDS: readonly CommandEntry[] = [
  server('serve', 'run the HTTP API and the dispatcher in one process'),
  server('api', 'run only the HTTP API'),
  server('worker', 'run only the dispatcher (delivers webhooks)'),
  server('migrate', 'apply database migrations and exit'),
  {
    name: 'rotate-encryption-key',
    description:
      're-encrypt secrets at rest under HERALD_ENCRYPTION_KEY, reading old values with HERALD_ENCRYPTION_KEY_PREVIOUS; safe to re-run',
    register: async (program) => {
      const helpers = await import('./commands/server.ts');
      (await import('./commands/rotate-encryption-key.ts')).registerRotateEncryptionKey(program, helpers);
    },
  },
  {
    name: 'listen',
    description:
      'a local receiver on 127.0.0.1: registers an endpoint for --tenant (removed on exit), verifies and prints each delivery',
    register: async (program) => (await import('./commands/listen.ts')).registerListen(program),
  },
  {
    name: 'send',
    description: 'publish an event',
    register: async (program) => (await import('./commands/events.ts')).registerSend(program),
  },
  {
    name: 'tenants',
    description: 'list, show, create, change and delete tenants, and their API keys',
    register: async (program) => (await import('./commands/tenants.ts')).registerTenants(program),
  },
  {
    name: 'event-types',
    description: 'the event-type catalog: list, show, add, change, remove',
    register: async (program) => (await import('./commands/event-types.ts')).registerEventTypes(program),
  },
  {
    name: 'endpoints',
    description: "a tenant's endpoints: list, show, create, change, delete, test",
    register: async (program) => (await import('./commands/endpoints.ts')).registerEndpoints(program),
  },
  {
    name: 'operational-endpoints',
    description:
      "the operator's webhooks for Herald's own events: list, show, create, change, pause, resume, delete",
    register: async (program) =>
      (await import('./commands/operational-endpoints.ts')).registerOperationalEndpoints(program),
  },
  {
    name: 'events',
    description: "a tenant's events: list and show",
    register: async (program) => (await import('./commands/events.ts')).registerEvents(program),
  },
  {
    name: 'deliveries',
    description: "a tenant's deliveries: list, show, retry",
    register: async (program) => (await import('./commands/deliveries.ts')).registerDeliveries(program),
  },
  {
    name: 'profiles',
    description: 'list the wire-format profiles an endpoint can use (--profile)',
    register: async (program) => (await import('./commands/profiles.ts')).registerProfiles(program),
  },
];

/** The command these arguments run: the first word (`herald help endpoints` runs endpoints' help). */
export function commandNamed(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The program with every command listed, and the one `args` names registered in full; the others
 * are a name and a description until they run.
 */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('herald')
    .version(HERALD_VERSION, '-V, --version', "print Herald's version")
    .description(
      'Herald — self-hosted webhook delivery: publish events, Herald signs, delivers, retries and logs them.',
    )
    // Section titles bold; commander drops the styling when stdout is not a terminal or NO_COLOR is set.
    .configureHelp({ styleTitle: (title) => `\u001b[1m${title}\u001b[22m` })
    .addHelpText(
      'after',
      `
Examples:
  herald serve                                  API + dispatcher on 127.0.0.1:8080, embedded storage in ./herald-data
  DATABASE_URL=postgres://… HERALD_ADMIN_KEY=… HERALD_ENCRYPTION_KEY=… herald serve
  herald worker --database-url postgres://…     one more dispatcher sharing the same PostgreSQL
  herald migrate                                apply database migrations and exit
  herald tenants list                           talk to a running Herald (docs/cli.md)

Every option can also be given as the environment variable shown; flags win.`,
    );
  const wanted = commandNamed(args);
  for (const entry of COMMANDS) {
    if (entry.name === wanted) await entry.register(program, entry);
    else program.command(entry.name).description(entry.description);
  }
  usageExitsEverywhere(program);
  return program;
}

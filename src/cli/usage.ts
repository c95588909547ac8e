/**
 * How the CLI reports a mistake: one line on stderr, `herald: <what> (see herald endpoints --help)`,
 * exit code 2 (docs/cli.md) — never the whole help after it. The `herald:` is red on a terminal.
 */
import type { Command, CommanderError } from 'commander';
import { paletteFor } from '../core/colour.ts';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** The command's full name, e.g. `herald endpoints create`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `herald: <message>` on stderr, the prefix red when stderr is a terminal. */
export function printError(message: string): void {
  const c = paletteFor(process.stderr);
  process.stderr.write(`${c.bold(c.red('herald:'))} ${message}\n`);
}

/**
 * Commander's parse errors on `cmd` as one line pointing at the command's help, and exit 2
 * (commander's default is 1 and, with showHelpAfterError, the whole help). `--help` and
 * `--version` still exit 0; a command run without its subcommand prints its help and exits 2.
 */
export function usageExits(cmd: Command): Command {
  return cmd.configureOutput({ outputError: () => {} }).exitOverride((err: CommanderError) => {
    if (err.exitCode === 0) process.exit(0);
    // The help was written already: the user asked for a group (`herald endpoints`) and no command.
    if (err.code !== 'commander.help')
      printError(`${err.message.replace(/^error: /, '')} (see ${commandPath(cmd)} --help)`);
    process.exit(2);
  });
}

/** usageExits on `cmd` and every command below it. */
export function usageExitsEverywhere(cmd: Command): void {
  usageExits(cmd);
  for (const sub of cmd.commands) usageExitsEverywhere(sub);
}

/**
 * `herald event-types …`: the global catalog of event types (the operator's). An entry's example is
 * what `herald endpoints test … --type <name>` sends when no `--data` is given.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EventTypePatch } from '../../client/types.ts';
import {
  type ApiOptions,
  apiCommand,
  clientFor,
  printDone,
  printOne,
  printPage,
  run,
  UsageError,
  withPaging,
} from './api-command.ts';

type Paging = { limit?: number; cursor?: string };
type Fields = { description?: string; schema?: string; example?: string };

const COLUMNS = ['name', 'description', 'schema', 'example', 'updatedAt'];

/**
 * A JSON flag value: the JSON itself, or `@path` for a file holding it (schemas are long). `null`
 * clears the field on `update`.
 */
export function jsonArgument(flag: string, value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(`${flag}: cannot read ${value.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(
      `${flag} is not valid JSON${value.startsWith('@') ? ` (in ${value.slice(1)})` : ''}`,
    );
  }
}

function withFields(cmd: Command): Command {
  return cmd
    .option('--description <text>', 'what the event means')
    .option('--schema <json>', 'a JSON Schema its data must match (JSON, or @file.json)')
    .option('--example <json>', 'example data, sent by `endpoints test` (JSON, or @file.json)');
}

function fieldsOf(opts: Fields): EventTypePatch {
  return {
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.schema !== undefined ? { schema: jsonArgument('--schema', opts.schema) } : {}),
    ...(opts.example !== undefined ? { example: jsonArgument('--example', opts.example) } : {}),
  };
}

export function registerEventTypes(program: Command): void {
  const eventTypes = program
    .command('event-types')
    .description('the event-type catalog: list, show, add, change, remove');

  withPaging(apiCommand(eventTypes, 'list', 'list the catalog, in name order')).action(
    run(async (opts: ApiOptions & Paging) => {
      const page = await clientFor(opts).eventTypes.list({ limit: opts.limit, cursor: opts.cursor });
      printPage(opts, page, COLUMNS);
    }),
  );

  apiCommand(eventTypes, 'get <name>', 'show one event type').action(
    run(async (name: string, opts: ApiOptions) => printOne(opts, await clientFor(opts).eventTypes.get(name))),
  );

  withFields(apiCommand(eventTypes, 'create <name>', 'add an event type to the catalog (admin key)')).action(
    run(async (name: string, opts: ApiOptions & Fields) =>
      printOne(opts, await clientFor(opts).eventTypes.create({ name, ...fieldsOf(opts) })),
    ),
  );

  withFields(
    apiCommand(eventTypes, 'update <name>', 'change an event type (a field given as null is cleared)'),
  ).action(
    run(async (name: string, opts: ApiOptions & Fields) => {
      const patch = fieldsOf(opts);
      if (Object.keys(patch).length === 0)
        throw new UsageError('nothing to change: give --description, --schema or --example');
      printOne(opts, await clientFor(opts).eventTypes.update(name, patch));
    }),
  );

  apiCommand(eventTypes, 'delete <name>', 'remove an event type from the catalog').action(
    run(async (name: string, opts: ApiOptions) => {
      await clientFor(opts).eventTypes.delete(name);
      printDone(opts, `deleted event type ${name}`);
    }),
  );
}

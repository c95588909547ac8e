/** `herald profiles`: the wire formats an endpoint can use, as the server describes them. */
import type { Command } from 'commander';
import type { Profile } from '../../client/types.ts';
import { type ApiOptions, apiCommand, clientFor, printPage, run } from './api-command.ts';

const COLUMNS = ['name', 'label', 'options', 'requiredAuth', 'batched'];

/** A profile as one table row: its options and required auth spelled out. */
function row(p: Profile) {
  return {
    name: p.name,
    label: p.label,
    options: p.options.map((o) => (o.required ? `${o.name} (required)` : o.name)).join(', '),
    requiredAuth: p.requiredAuth?.join(' or ') ?? '',
    batched: p.batched,
  };
}

export function registerProfiles(program: Command): void {
  apiCommand(program, 'profiles', 'list the wire-format profiles an endpoint can use (--profile)').action(
    run(async (opts: ApiOptions) => {
      const { data } = await clientFor(opts).profiles.list();
      printPage(
        opts,
        opts.json ? { data, nextCursor: null } : { data: data.map(row), nextCursor: null },
        COLUMNS,
      );
    }),
  );
}

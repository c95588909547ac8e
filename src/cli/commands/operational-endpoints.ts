/**
 * `herald operational-endpoints …`: the operator's webhooks for Herald's own events
 * (`/v1/operational-endpoints`, admin key only). The same flags as `herald endpoints`, less the
 * profile ones: they are signed the Standard Webhooks way (the `standard` profile) only. Their
 * deliveries are the operational tenant's: `herald deliveries list --tenant _herald`.
 */
import type { Command } from 'commander';
import type { EndpointPatch } from '../../client/types.ts';
import { OPERATIONAL_TENANT_ID } from '../../core/operational-tenant.ts';
import {
  type ApiOptions,
  apiCommand,
  clientFor,
  printDone,
  printOne,
  printPage,
  run,
  withPaging,
} from './api-command.ts';
import {
  activeFlag,
  type CreateFlags,
  createBody,
  type FieldFlags,
  fieldsOf,
  rotateBody,
  type Scheme,
  withCreateFlags,
  withFieldFlags,
  withRotateFlags,
} from './endpoint-flags.ts';

const COLUMNS = ['id', 'url', 'name', 'eventTypes', 'active', 'disabledReason', 'createdAt'];

const FIELDS = {
  profiles: false,
  types:
    "Herald's event types, comma-separated (endpoint.* wildcards; default all; herald operational-endpoints event-types lists them)",
};

export function registerOperationalEndpoints(program: Command): void {
  const ops = program
    .command('operational-endpoints')
    .description(
      "the operator's webhooks for Herald's own events: list, show, create, change, pause, resume, delete",
    );

  withPaging(apiCommand(ops, 'list', 'list the operational endpoints'))
    .option('--endpoint-url <url>', 'only endpoints with this URL')
    .action(
      run(async (opts: ApiOptions & { limit?: number; cursor?: string; endpointUrl?: string }) => {
        const page = await clientFor(opts).operationalEndpoints.list({
          limit: opts.limit,
          cursor: opts.cursor,
          url: opts.endpointUrl,
        });
        printPage(opts, page, COLUMNS);
      }),
    );

  apiCommand(ops, 'get <endpointId>', 'show one operational endpoint').action(
    run(async (id: string, opts: ApiOptions) =>
      printOne(opts, await clientFor(opts).operationalEndpoints.get(id)),
    ),
  );

  withCreateFlags(
    withFieldFlags(
      apiCommand(ops, 'create <url>', 'create an operational endpoint; prints its signing secret'),
      FIELDS,
    ),
  ).action(
    run(async (url: string, opts: ApiOptions & CreateFlags) => {
      printOne(opts, await clientFor(opts).operationalEndpoints.create(createBody(url, opts)));
    }),
  );

  withFieldFlags(apiCommand(ops, 'update <endpointId>', 'change an operational endpoint'), FIELDS)
    .option('--endpoint-url <url>', 'new URL')
    .option('--active <bool>', 'true resumes, false pauses', activeFlag)
    .action(
      run(async (id: string, opts: ApiOptions & FieldFlags & { endpointUrl?: string; active?: boolean }) => {
        const patch: EndpointPatch = {
          ...fieldsOf(opts),
          ...(opts.endpointUrl !== undefined ? { url: opts.endpointUrl } : {}),
          ...(opts.active !== undefined ? { active: opts.active } : {}),
        };
        printOne(opts, await clientFor(opts).operationalEndpoints.update(id, patch));
      }),
    );

  // The dashboard's words for `active: false` and back (`update --active` does the same).
  for (const [verb, active, what] of [
    ['pause', false, 'stop sending to it; its deliveries wait'],
    ['resume', true, 'send to it again: its waiting deliveries are due at once'],
  ] as const) {
    apiCommand(ops, `${verb} <endpointId>`, what).action(
      run(async (id: string, opts: ApiOptions) => {
        const endpoint = await clientFor(opts).operationalEndpoints.update(id, { active });
        printDone(opts, `${active ? 'resumed' : 'paused'} operational endpoint ${id}`, endpoint);
      }),
    );
  }

  apiCommand(ops, 'delete <endpointId>', 'delete an operational endpoint and its deliveries').action(
    run(async (id: string, opts: ApiOptions) => {
      await clientFor(opts).operationalEndpoints.delete(id);
      printDone(opts, `deleted operational endpoint ${id}`);
    }),
  );

  apiCommand(
    ops,
    'secret <endpointId>',
    "print what receivers verify with: the signing secret (an Ed25519 endpoint's whpk_ public key)",
  ).action(
    // Read through the operational tenant's endpoint routes, which answer reads.
    run(async (id: string, opts: ApiOptions) => {
      const { secret } = await clientFor(opts).endpoints.secret(OPERATIONAL_TENANT_ID, id);
      printDone(opts, secret, { secret });
    }),
  );

  withRotateFlags(
    apiCommand(ops, 'rotate-secret <endpointId>', 'new secret; the old one signs alongside for 24 h'),
  ).action(
    run(async (id: string, opts: ApiOptions & { secret?: string; signatureScheme?: Scheme }) => {
      const { secret } = await clientFor(opts).operationalEndpoints.rotateSecret(id, rotateBody(opts));
      printDone(opts, secret, { secret });
    }),
  );

  apiCommand(ops, 'event-types', "list Herald's own event types, which --types chooses among").action(
    run(async (opts: ApiOptions) => {
      const { data } = await clientFor(opts).operationalEndpoints.eventTypes();
      if (opts.json) printOne(opts, { data });
      else printPage(opts, { data, nextCursor: null }, ['name', 'description']);
    }),
  );
}

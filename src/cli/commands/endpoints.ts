/** `herald endpoints …`: a tenant's endpoints, their secrets, the emulator and recovery. */

import type { Command } from 'commander';
import { HeraldApiError } from '../../client/api-error.ts';
import type { EndpointPatch } from '../../client/types.ts';
import {
  type ApiOptions,
  apiCommand,
  clientFor,
  jsonObject,
  printDone,
  printOne,
  printPage,
  run,
  withPaging,
  withTenant,
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

type Tenant = { tenant: string };

const COLUMNS = ['id', 'url', 'profile', 'eventTypes', 'active', 'disabledReason', 'createdAt'];

export function registerEndpoints(program: Command): void {
  const endpoints = program
    .command('endpoints')
    .description("a tenant's endpoints: list, show, create, change, delete, test");

  withPaging(withTenant(apiCommand(endpoints, 'list', "list the tenant's endpoints")))
    .option('--endpoint-url <url>', 'only endpoints with this URL')
    .action(
      run(async (opts: ApiOptions & Tenant & { limit?: number; cursor?: string; endpointUrl?: string }) => {
        const page = await clientFor(opts).endpoints.list(opts.tenant, {
          limit: opts.limit,
          cursor: opts.cursor,
          url: opts.endpointUrl,
        });
        printPage(opts, page, COLUMNS);
      }),
    );

  withTenant(apiCommand(endpoints, 'get <endpointId>', 'show one endpoint')).action(
    run(async (id: string, opts: ApiOptions & Tenant) =>
      printOne(opts, await clientFor(opts).endpoints.get(opts.tenant, id)),
    ),
  );

  withCreateFlags(
    withFieldFlags(
      withTenant(apiCommand(endpoints, 'create <url>', 'create an endpoint; prints its signing secret')),
    ),
  ).action(
    run(async (url: string, opts: ApiOptions & Tenant & CreateFlags) => {
      printOne(opts, await clientFor(opts).endpoints.create(opts.tenant, createBody(url, opts)));
    }),
  );

  withFieldFlags(withTenant(apiCommand(endpoints, 'update <endpointId>', 'change an endpoint')))
    .option('--endpoint-url <url>', 'new URL')
    .option('--active <bool>', 'true re-enables, false pauses', activeFlag)
    .action(
      run(
        async (
          id: string,
          opts: ApiOptions & Tenant & FieldFlags & { endpointUrl?: string; active?: boolean },
        ) => {
          const patch: EndpointPatch = {
            ...fieldsOf(opts),
            ...(opts.endpointUrl !== undefined ? { url: opts.endpointUrl } : {}),
            ...(opts.active !== undefined ? { active: opts.active } : {}),
          };
          printOne(opts, await clientFor(opts).endpoints.update(opts.tenant, id, patch));
        },
      ),
    );

  withTenant(apiCommand(endpoints, 'delete <endpointId>', 'delete an endpoint and its deliveries')).action(
    run(async (id: string, opts: ApiOptions & Tenant) => {
      await clientFor(opts).endpoints.delete(opts.tenant, id);
      printDone(opts, `deleted endpoint ${id}`);
    }),
  );

  withTenant(
    apiCommand(endpoints, 'delete-by-url <url>', 'delete every endpoint of the tenant with this URL'),
  ).action(
    run(async (url: string, opts: ApiOptions & Tenant) => {
      const client = clientFor(opts);
      const ids: string[] = [];
      for await (const ep of client.endpoints.iterate(opts.tenant, { url })) ids.push(ep.id);
      // None: the API's own answer (ENDPOINT_NOT_FOUND), as the by-URL delete gives it.
      if (ids.length === 0) await client.endpoints.deleteByUrl(opts.tenant, url);
      // One by one, so the count is of what was deleted here (not of one deleted meanwhile).
      const deleted: string[] = [];
      for (const id of ids) {
        try {
          await client.endpoints.delete(opts.tenant, id);
          deleted.push(id);
        } catch (err) {
          if (!(err instanceof HeraldApiError && err.code === 'ENDPOINT_NOT_FOUND')) throw err;
        }
      }
      const n = deleted.length;
      printDone(
        opts,
        `deleted ${n} endpoint${n === 1 ? '' : 's'} with URL ${url}${n ? `: ${deleted.join(', ')}` : ''}`,
        { deleted },
      );
    }),
  );

  withTenant(
    apiCommand(
      endpoints,
      'secret <endpointId>',
      "print what receivers verify with: the signing secret (an Ed25519 endpoint's whpk_ public key)",
    ),
  ).action(
    run(async (id: string, opts: ApiOptions & Tenant) => {
      const { secret } = await clientFor(opts).endpoints.secret(opts.tenant, id);
      printDone(opts, secret, { secret });
    }),
  );

  withRotateFlags(
    withTenant(
      apiCommand(endpoints, 'rotate-secret <endpointId>', 'new secret; the old one signs alongside for 24 h'),
    ),
  ).action(
    run(async (id: string, opts: ApiOptions & Tenant & { secret?: string; signatureScheme?: Scheme }) => {
      const { secret } = await clientFor(opts).endpoints.rotateSecret(opts.tenant, id, rotateBody(opts));
      printDone(opts, secret, { secret });
    }),
  );

  withTenant(
    apiCommand(endpoints, 'test <endpointId>', "send a test event now (the type's example, or --data)"),
  )
    .requiredOption('--type <eventType>', 'event type')
    .option('--data <json>', 'event data (a JSON object)')
    .action(
      run(async (id: string, opts: ApiOptions & Tenant & { type: string; data?: string }) => {
        const result = await clientFor(opts).endpoints.test(opts.tenant, id, {
          eventType: opts.type,
          ...(opts.data !== undefined ? { data: jsonObject('--data', opts.data) } : {}),
        });
        printDone(opts, `sent event ${result.event.id} as delivery ${result.deliveryId}`, result);
      }),
    );

  withTenant(apiCommand(endpoints, 'recover <endpointId>', 're-queue failed deliveries created in a window'))
    .requiredOption('--since <time>', 'ISO 8601 start of the window')
    .option('--until <time>', 'ISO 8601 end of the window (default now)')
    .action(
      run(async (id: string, opts: ApiOptions & Tenant & { since: string; until?: string }) => {
        const result = await clientFor(opts).endpoints.recover(opts.tenant, id, {
          since: opts.since,
          ...(opts.until !== undefined ? { until: opts.until } : {}),
        });
        printDone(opts, `re-queued ${result.recovered} failed deliveries`, result);
      }),
    );
}

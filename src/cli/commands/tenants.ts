/** `herald tenants …`: the operator's tenants and their API keys. */
import type { Command } from 'commander';
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
} from './api-command.ts';

type Paging = { limit?: number; cursor?: string };

const COLUMNS = ['id', 'name', 'createdAt'];

export function registerTenants(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('list, show, create, change and delete tenants, and their API keys');

  withPaging(apiCommand(tenants, 'list', 'list tenants')).action(
    run(async (opts: ApiOptions & Paging) => {
      const page = await clientFor(opts).tenants.list({ limit: opts.limit, cursor: opts.cursor });
      printPage(opts, page, COLUMNS);
    }),
  );

  apiCommand(tenants, 'get <tenantId>', 'show one tenant').action(
    run(async (id: string, opts: ApiOptions) => printOne(opts, await clientFor(opts).tenants.get(id))),
  );

  apiCommand(tenants, 'create', 'create a tenant')
    .requiredOption('--name <name>', 'display name')
    .option('--id <id>', 'tenant id ([A-Za-z0-9_.-]{1,64}); generated when absent')
    .option('--metadata <json>', 'a JSON object kept with the tenant')
    .action(
      run(async (opts: ApiOptions & { name: string; id?: string; metadata?: string }) => {
        const tenant = await clientFor(opts).tenants.create({
          name: opts.name,
          ...(opts.id !== undefined ? { id: opts.id } : {}),
          ...(opts.metadata !== undefined ? { metadata: jsonObject('--metadata', opts.metadata) } : {}),
        });
        printOne(opts, tenant);
      }),
    );

  apiCommand(tenants, 'update <tenantId>', 'change a tenant')
    .option('--name <name>', 'display name')
    .option('--metadata <json>', 'a JSON object (replaces the metadata)')
    .action(
      run(async (id: string, opts: ApiOptions & { name?: string; metadata?: string }) => {
        const tenant = await clientFor(opts).tenants.update(id, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.metadata !== undefined ? { metadata: jsonObject('--metadata', opts.metadata) } : {}),
        });
        printOne(opts, tenant);
      }),
    );

  apiCommand(tenants, 'delete <tenantId>', 'delete a tenant and everything it owns').action(
    run(async (id: string, opts: ApiOptions) => {
      await clientFor(opts).tenants.delete(id);
      printDone(opts, `deleted tenant ${id}`);
    }),
  );

  apiCommand(tenants, 'create-key <tenantId>', 'create an API key for the tenant (shown only now)')
    .option('--name <name>', 'what the key is for')
    .action(
      run(async (id: string, opts: ApiOptions & { name?: string }) => {
        const key = await clientFor(opts).apiKeys.create(
          id,
          opts.name !== undefined ? { name: opts.name } : {},
        );
        printOne(opts, key);
      }),
    );

  withPaging(apiCommand(tenants, 'keys <tenantId>', "list the tenant's API keys (never the keys)")).action(
    run(async (id: string, opts: ApiOptions & Paging) => {
      const page = await clientFor(opts).apiKeys.list(id, { limit: opts.limit, cursor: opts.cursor });
      printPage(opts, page, ['id', 'name', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt']);
    }),
  );

  apiCommand(tenants, 'revoke-key <tenantId> <keyId>', 'revoke a tenant API key').action(
    run(async (id: string, keyId: string, opts: ApiOptions) => {
      await clientFor(opts).apiKeys.revoke(id, keyId);
      printDone(opts, `revoked key ${keyId}`);
    }),
  );
}

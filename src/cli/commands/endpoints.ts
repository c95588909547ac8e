/** `herald endpoints …`: a tenant's endpoints, their secrets, the emulator and recovery. */

import { type Command, InvalidArgumentError } from 'commander';
import { HeraldApiError } from '../../client/api-error.ts';
import type { EndpointCreate, EndpointPatch } from '../../client/types.ts';
import { ConfigError, parseDuration } from '../../config/config.ts';
import { PROFILE_NAMES } from '../../profiles/profile-names.ts';
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

type Tenant = { tenant: string };
type Fields = {
  name?: string;
  description?: string;
  types?: string;
  profile?: string;
  accountNumber?: string;
  options?: string;
  bearer?: string;
  header?: Record<string, string>;
  retrySchedule?: number[] | 'default';
};

const COLUMNS = ['id', 'url', 'profile', 'eventTypes', 'active', 'disabledReason', 'createdAt'];

function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon < 1) throw new InvalidArgumentError('--header must look like "Name: value"');
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

type Scheme = 'hmac-sha256' | 'ed25519';

function signatureScheme(value: string): Scheme {
  if (value !== 'hmac-sha256' && value !== 'ed25519') {
    throw new InvalidArgumentError('--signature-scheme must be hmac-sha256 or ed25519');
  }
  return value;
}

function withFields(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'display name')
    .option('--description <text>', 'description')
    .option('--types <list>', 'event types, comma-separated (invoice.* wildcards; default all)')
    .option(
      '--profile <profile>',
      `wire format: ${PROFILE_NAMES.join(', ')} (herald profiles: their options)`,
    )
    .option('--account-number <n>', "Courier Invoice's account number (profileOptions.accountNumber)")
    .option('--options <json>', 'profileOptions as a JSON object')
    .option('--bearer <token>', 'send Authorization: Bearer <token> (auth)')
    .option('--header <name: value>', 'an extra request header (repeatable)', header)
    .option(
      '--retry-schedule <delays>',
      'waits before each retry after the first attempt, e.g. 5s,5m,2h (default: the profile\'s); "default" resets',
      retrySchedule,
    );
}

/**
 * `5s,5m,2h` as seconds (`[5, 300, 7200]`); `none` is no retries, `default` the profile's schedule
 * (sent as null — commander turns a parser's null into '', hence the word until then).
 */
export function retrySchedule(value: string): number[] | 'default' {
  if (value === 'default') return 'default';
  if (value === 'none') return [];
  try {
    return value.split(',').map((d) => parseDuration(d, '--retry-schedule'));
  } catch (err) {
    if (err instanceof ConfigError)
      throw new InvalidArgumentError(err.message.replace(/^invalid [^:]+: /, ''));
    throw err;
  }
}

function fieldsOf(opts: Fields): EndpointPatch {
  const profileOptions = {
    ...(opts.options !== undefined ? jsonObject('--options', opts.options) : {}),
    ...(opts.accountNumber !== undefined ? { accountNumber: opts.accountNumber } : {}),
  };
  return {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.types !== undefined ? { eventTypes: opts.types } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(Object.keys(profileOptions).length ? { profileOptions } : {}),
    ...(opts.bearer !== undefined ? { auth: { type: 'bearer' as const, token: opts.bearer } } : {}),
    ...(opts.header !== undefined ? { headers: opts.header } : {}),
    ...(opts.retrySchedule !== undefined
      ? { retrySchedule: opts.retrySchedule === 'default' ? null : opts.retrySchedule }
      : {}),
  };
}

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

  withFields(
    withTenant(apiCommand(endpoints, 'create <url>', 'create an endpoint; prints its signing secret')),
  )
    .option('--secret <secret>', 'signing secret (default: generated whsec_…, or whsk_… for ed25519)')
    .option(
      '--signature-scheme <scheme>',
      'hmac-sha256 (v1, the default) or ed25519 (v1a; prints the whpk_ public key)',
      signatureScheme,
    )
    .option('--inactive', 'create it inactive')
    .action(
      run(
        async (
          url: string,
          opts: ApiOptions &
            Tenant &
            Fields & { secret?: string; signatureScheme?: Scheme; inactive?: boolean },
        ) => {
          const body: EndpointCreate = {
            url,
            ...fieldsOf(opts),
            ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
            ...(opts.signatureScheme !== undefined ? { signatureScheme: opts.signatureScheme } : {}),
            ...(opts.inactive ? { active: false } : {}),
          };
          printOne(opts, await clientFor(opts).endpoints.create(opts.tenant, body));
        },
      ),
    );

  withFields(withTenant(apiCommand(endpoints, 'update <endpointId>', 'change an endpoint')))
    .option('--endpoint-url <url>', 'new URL')
    .option('--active <bool>', 'true re-enables, false pauses', (v) => {
      if (v !== 'true' && v !== 'false') throw new InvalidArgumentError('--active must be true or false');
      return v === 'true';
    })
    .action(
      run(
        async (
          id: string,
          opts: ApiOptions & Tenant & Fields & { endpointUrl?: string; active?: boolean },
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

  withTenant(
    apiCommand(endpoints, 'rotate-secret <endpointId>', 'new secret; the old one signs alongside for 24 h'),
  )
    .option('--secret <secret>', 'the new secret (default: generated)')
    .option(
      '--signature-scheme <scheme>',
      "the new key's scheme: hmac-sha256 or ed25519 (default: the endpoint's current one)",
      signatureScheme,
    )
    .action(
      run(async (id: string, opts: ApiOptions & Tenant & { secret?: string; signatureScheme?: Scheme }) => {
        const { secret } = await clientFor(opts).endpoints.rotateSecret(opts.tenant, id, {
          ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
          ...(opts.signatureScheme !== undefined ? { signatureScheme: opts.signatureScheme } : {}),
        });
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

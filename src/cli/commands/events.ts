/** `herald events …` and `herald send`: publishing and reading a tenant's events. */
import type { Command } from 'commander';
import type { EventInput } from '../../client/types.ts';
import { table } from '../table.ts';
import {
  type ApiOptions,
  apiCommand,
  clientFor,
  jsonObject,
  printOne,
  printPage,
  run,
  withPaging,
  withTenant,
} from './api-command.ts';

type Tenant = { tenant: string };

const EVENT_KEYS = ['id', 'type', 'origin', 'occurredAt', 'createdAt', 'batchId', 'data'];

export function registerSend(program: Command): void {
  withTenant(apiCommand(program, 'send', 'publish an event'))
    .requiredOption('--type <eventType>', 'event type, e.g. invoice.created')
    .requiredOption('--data <json>', 'event data, a JSON object')
    .option('--id <id>', 'your event id: publishing it again sends nothing twice')
    .option('--origin <origin>', 'where the event came from (endpoints may ignore origins)')
    .option('--idempotency-key <key>', 'names the whole call')
    .action(
      run(
        async (
          opts: ApiOptions &
            Tenant & { type: string; data: string; id?: string; origin?: string; idempotencyKey?: string },
        ) => {
          const event: EventInput = {
            type: opts.type,
            data: jsonObject('--data', opts.data),
            ...(opts.id !== undefined ? { id: opts.id } : {}),
            ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
          };
          const published = await clientFor(opts).events.publish(
            opts.tenant,
            event,
            opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {},
          );
          printOne(opts, published, EVENT_KEYS);
        },
      ),
    );
}

export function registerEvents(program: Command): void {
  const events = program.command('events').description("a tenant's events: list and show");

  withPaging(withTenant(apiCommand(events, 'list', "list the tenant's events, newest first")))
    .option('--type <eventType>', 'only this type')
    .action(
      run(async (opts: ApiOptions & Tenant & { limit?: number; cursor?: string; type?: string }) => {
        const page = await clientFor(opts).events.list(opts.tenant, {
          limit: opts.limit,
          cursor: opts.cursor,
          type: opts.type,
        });
        printPage(opts, page, ['id', 'type', 'origin', 'createdAt']);
      }),
    );

  withTenant(apiCommand(events, 'get <eventId>', 'show an event and its delivery to each endpoint')).action(
    run(async (id: string, opts: ApiOptions & Tenant) => {
      const event = await clientFor(opts).events.get(opts.tenant, id);
      printOne(opts, event, EVENT_KEYS);
      if (opts.json) return;
      process.stdout.write('\n');
      process.stdout.write(
        event.deliveries.length
          ? `${table(event.deliveries, ['deliveryId', 'endpointId', 'sequence', 'status', 'attemptCount', 'lastStatusCode', 'lastError'])}\n`
          : '(no deliveries)\n',
      );
    }),
  );
}

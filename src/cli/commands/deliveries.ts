/** `herald deliveries …`: what was sent where, each attempt, and sending again. */
import { type Command, InvalidArgumentError } from 'commander';
import type { DeliveryStatus } from '../../client/types.ts';
import { table } from '../table.ts';
import {
  type ApiOptions,
  apiCommand,
  clientFor,
  printOne,
  printPage,
  run,
  withPaging,
  withTenant,
} from './api-command.ts';

type Tenant = { tenant: string };

const STATUSES: readonly string[] = ['pending', 'succeeded', 'failed'] satisfies DeliveryStatus[];
const COLUMNS = [
  'id',
  'endpointId',
  'eventType',
  'sequence',
  'status',
  'attemptCount',
  'lastStatusCode',
  'createdAt',
];

export function registerDeliveries(program: Command): void {
  const deliveries = program.command('deliveries').description("a tenant's deliveries: list, show, retry");

  withPaging(withTenant(apiCommand(deliveries, 'list', "list the tenant's deliveries, newest first")))
    .option('--endpoint <endpointId>', 'only to this endpoint')
    .option('--status <status>', STATUSES.join(' | '), (v) => {
      if (!STATUSES.includes(v))
        throw new InvalidArgumentError(`--status must be one of ${STATUSES.join(', ')}`);
      return v as DeliveryStatus;
    })
    .option('--event <eventId>', 'only of this event')
    .action(
      run(
        async (
          opts: ApiOptions &
            Tenant & {
              limit?: number;
              cursor?: string;
              endpoint?: string;
              status?: DeliveryStatus;
              event?: string;
            },
        ) => {
          const page = await clientFor(opts).deliveries.list(opts.tenant, {
            limit: opts.limit,
            cursor: opts.cursor,
            endpointId: opts.endpoint,
            status: opts.status,
            eventId: opts.event,
          });
          printPage(opts, page, COLUMNS);
        },
      ),
    );

  withTenant(apiCommand(deliveries, 'get <deliveryId>', 'show a delivery and every attempt')).action(
    run(async (id: string, opts: ApiOptions & Tenant) => {
      const d = await clientFor(opts).deliveries.get(opts.tenant, id);
      const { attempts, ...delivery } = d;
      printOne(opts, opts.json ? d : delivery);
      if (opts.json) return;
      process.stdout.write('\n');
      process.stdout.write(
        attempts.length
          ? `${table(attempts, ['attemptNumber', 'startedAt', 'durationMs', 'statusCode', 'errorKind', 'errorMessage'])}\n`
          : '(no attempts yet)\n',
      );
    }),
  );

  withTenant(apiCommand(deliveries, 'retry <deliveryId>', 'send a delivery again now')).action(
    run(async (id: string, opts: ApiOptions & Tenant) =>
      printOne(opts, await clientFor(opts).deliveries.retry(opts.tenant, id)),
    ),
  );
}

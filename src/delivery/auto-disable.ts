/**
 * The auto-disable job: an endpoint that has failed continuously (every attempt since
 * `failing_since`; a success clears it) for longer than HERALD_DISABLE_AFTER is disabled, visibly —
 * `active = false` with the reason and time on the endpoint — and a warn line is logged as the
 * operator notification. Its pending deliveries stay pending (paused) and resume if it is re-enabled.
 */
import { formatDuration } from '../config/option-values.ts';
import type { Queryable } from '../db/db.ts';
import { type DisabledEndpoint, disableEndpointsFailingSince } from '../store/endpoint-health.ts';
import type { DeliveryLogger } from './logger.ts';

/**
 * @example await disableFailingEndpoints(db, { now: new Date(), disableAfterSeconds: 5 * 86400, logger })
 */
export async function disableFailingEndpoints(
  q: Queryable,
  opts: { now: Date; disableAfterSeconds: number; logger?: DeliveryLogger },
): Promise<DisabledEndpoint[]> {
  const reason = `failing continuously for more than ${formatDuration(opts.disableAfterSeconds)}`;
  const disabled = await disableEndpointsFailingSince(q, {
    now: opts.now,
    failingSince: new Date(opts.now.getTime() - opts.disableAfterSeconds * 1000),
    reason,
  });
  for (const e of disabled) {
    opts.logger?.warn(
      {
        tenantId: e.tenantId,
        endpointId: e.id,
        url: e.url,
        failingSince: e.failingSince.toISOString(),
        reason,
      },
      'endpoint disabled: failing continuously',
    );
  }
  return disabled;
}

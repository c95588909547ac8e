/**
 * Actions on one endpoint that act on its deliveries: the emulator (`…/test`) and recovery of failed
 * deliveries (`…/recover`). The endpoint's own CRUD lives with the endpoints routes.
 */
import { Type } from 'typebox';
import { invalid } from '../../core/errors.ts';
import { publishTestEvent } from '../../publish/publish-events.ts';
import { countRecoverable, recoverDeliveries } from '../../store/deliveries.ts';
import type { App, AppContext } from '../context.ts';
import { instant } from '../instant.ts';
import { Timestamp } from '../schemas/common.ts';
import { EndpointParams, EventData, EventOut, EventTypeName } from '../schemas/event.ts';
import { asSingleEvent } from '../single-event.ts';

export function endpointActionRoutes(app: App, ctx: AppContext): void {
  const tags = ['endpoints'];
  const config = { access: 'tenant' as const };

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/test',
    {
      config,
      schema: {
        tags,
        operationId: 'testEndpoint',
        summary: 'Send a test event to this endpoint now (the emulator)',
        errors: ['DATA_SCHEMA_MISMATCH', 'ENDPOINT_NOT_FOUND', 'LIMIT_EXCEEDED'],
        description:
          'Publishes one event of `eventType` with origin `herald.test` — `data`, or the event ' +
          "type's example — and delivers it to this endpoint only, whatever its event types and filter.",
        params: EndpointParams,
        body: Type.Object(
          { eventType: EventTypeName, data: Type.Optional(EventData) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ event: EventOut, deliveryId: Type.String() }) },
      },
    },
    async (req, reply) => {
      const { tenantId, endpointId } = req.params;
      const result = await publishTestEvent(ctx.db, tenantId, endpointId, req.body, ctx.handoff).catch(
        (err: unknown) => {
          throw asSingleEvent(err);
        },
      );
      return reply.code(202).send(result);
    },
  );

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/recover',
    {
      config,
      schema: {
        tags,
        operationId: 'recoverEndpointDeliveries',
        summary: "Re-queue this endpoint's failed deliveries created in a time window",
        errors: ['ENDPOINT_NOT_FOUND'],
        description:
          'Failed deliveries created from `since` to `until` (both inclusive; no `until`: up to now) ' +
          'become pending, due now: 202 with how many. With `dryRun: true` nothing changes and the ' +
          'answer (200) says how many would be re-queued right now — the count to confirm before sending.',
        params: EndpointParams,
        body: Type.Object(
          {
            since: Timestamp,
            until: Type.Optional(Timestamp),
            dryRun: Type.Optional(
              Type.Boolean({ description: 'count the failed deliveries in the window; change nothing' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            wouldRecover: Type.Integer({ description: 'failed deliveries in the window now' }),
          }),
          202: Type.Object({ recovered: Type.Integer() }),
        },
      },
    },
    async (req, reply) => {
      const since = instant('body.since', req.body.since);
      const until = req.body.until !== undefined ? instant('body.until', req.body.until) : undefined;
      if (until && until < since) throw invalid('body.until', 'must not be before since');
      const window = { since, ...(until ? { until } : {}) };
      const { tenantId, endpointId } = req.params;
      if (req.body.dryRun === true) {
        return reply
          .code(200)
          .send({ wouldRecover: await countRecoverable(ctx.db, tenantId, endpointId, window) });
      }
      const recovered = await recoverDeliveries(ctx.db, tenantId, endpointId, window);
      return reply.code(202).send({ recovered });
    },
  );
}

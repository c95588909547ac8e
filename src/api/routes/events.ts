/**
 * `/v1/tenants/:tenantId/events`: publishing (one event or a batch of up to 100, idempotent by event
 * id or `Idempotency-Key`) and reading events with each endpoint's delivery status.
 */
import { Type } from 'typebox';
import { invalid } from '../../core/errors.ts';
import { createDeliveryBudget, MAX_DELIVERIES_PER_CALL } from '../../publish/delivery-budget.ts';
import { type EventInput, publishEvents } from '../../publish/publish-events.ts';
import { getEvent, listEvents } from '../../store/events.ts';
import type { App, AppContext } from '../context.ts';
import { instant } from '../instant.ts';
import { DEFAULT_LIMIT, decodeCursor, PageOf, PageQuery, page } from '../pagination.ts';
import { annotatePublish, publishSpanHooks, publishTraceContext } from '../publish-trace.ts';
import { TenantParams } from '../schemas/common.ts';
import {
  EventDetailOut,
  EventOut,
  EventParams,
  EventTypeName,
  PublishBody,
  PublishHeaders,
} from '../schemas/event.ts';
import { asSingleEvent, publishValidatorCompiler } from '../single-event.ts';

export function eventRoutes(app: App, ctx: AppContext): void {
  const tags = ['events'];
  const rate = ctx.config.deliveryRateLimit;
  const budget =
    rate > 0
      ? createDeliveryBudget({
          perSecond: rate,
          burst: Math.max(rate * 5, MAX_DELIVERIES_PER_CALL),
          now: () => ctx.clock.now().getTime(),
        })
      : undefined;
  const config = { access: 'tenant' as const };

  app.post(
    '/v1/tenants/:tenantId/events',
    {
      config,
      ...publishSpanHooks(),
      validatorCompiler: publishValidatorCompiler,
      schema: {
        tags,
        operationId: 'publishEvents',
        summary: 'Publish one event, or a batch of up to 100 (one call = one batch)',
        errors: ['DATA_SCHEMA_MISMATCH', 'IDEMPOTENCY_CONFLICT', 'LIMIT_EXCEEDED'],
        description:
          'Stores the events and all their deliveries before answering. An event `id` already used ' +
          'with the same type and data, or a repeated `Idempotency-Key`, answers with the first ' +
          'event(s) and sends nothing again (header `Idempotent-Replayed: true`).',
        params: TenantParams,
        headers: PublishHeaders,
        body: PublishBody,
        response: { 202: Type.Union([EventOut, Type.Object({ data: Type.Array(EventOut) })]) },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const single = !('events' in body);
      const inputs: EventInput[] = 'events' in body ? body.events : [body];
      inputs.forEach((e, i) => {
        if (e.occurredAt !== undefined)
          instant(single ? 'body.occurredAt' : `body.events.${i}.occurredAt`, e.occurredAt, {
            rollLeapSecond: true,
          });
      });
      const key = req.headers['idempotency-key'];
      const traceContext = publishTraceContext(req);
      const result = await publishEvents(ctx.db, req.params.tenantId, inputs, {
        handoff: ctx.handoff,
        budget,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
        ...(traceContext !== undefined ? { traceContext } : {}),
      }).catch((err: unknown) => {
        throw single ? asSingleEvent(err) : err;
      });
      annotatePublish(req, result);
      if (result.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(single ? result.events[0]! : { data: result.events });
    },
  );

  app.get(
    '/v1/tenants/:tenantId/events',
    {
      config,
      schema: {
        tags,
        operationId: 'listEvents',
        summary: "List the tenant's events, newest first",
        description:
          'Ordered by `(createdAt, id)`. `type`, `since` and `until` filter on the server, so every ' +
          'page holds only matching events; keep the same filters when following `nextCursor`. ' +
          'One event by its id: `GET …/events/{eventId}`.',
        params: TenantParams,
        querystring: Type.Object({
          ...PageQuery,
          type: Type.Optional(EventTypeName),
          since: Type.Optional(
            Type.String({ format: 'date-time', description: 'only events created at or after this time' }),
          ),
          until: Type.Optional(
            Type.String({ format: 'date-time', description: 'only events created at or before this time' }),
          ),
        }),
        response: { 200: PageOf(EventOut) },
      },
    },
    async (req) => {
      const { limit = DEFAULT_LIMIT, type } = req.query;
      const after = decodeCursor(req.query.cursor);
      const since = req.query.since !== undefined ? instant('querystring.since', req.query.since) : undefined;
      const until = req.query.until !== undefined ? instant('querystring.until', req.query.until) : undefined;
      if (since && until && until < since) throw invalid('querystring.until', 'must not be before since');
      const rows = await listEvents(ctx.db, req.params.tenantId, {
        limit: limit + 1,
        ...(after ? { after } : {}),
        ...(type !== undefined ? { type } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      });
      return page(rows, limit, (e) => e.position);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/events/:eventId',
    {
      config,
      schema: {
        tags,
        operationId: 'getEvent',
        summary: 'Get an event with the status of its delivery to each endpoint',
        errors: ['EVENT_NOT_FOUND'],
        params: EventParams,
        response: { 200: EventDetailOut },
      },
    },
    async (req) => {
      const event = await getEvent(ctx.db, req.params.tenantId, req.params.eventId);
      return {
        ...event,
        deliveries: event.deliveries.map((d) => ({
          deliveryId: d.id,
          endpointId: d.endpointId,
          sequence: d.sequence,
          status: d.status,
          attemptCount: d.attemptCount,
          lastStatusCode: d.lastStatusCode,
          lastError: d.lastError,
          lastAttemptAt: d.lastAttemptAt,
          nextAttemptAt: d.nextAttemptAt,
          completedAt: d.completedAt,
        })),
      };
    },
  );
}

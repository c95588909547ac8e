/** `/v1/tenants/:tenantId/deliveries`: what was sent where, every attempt, and sending again. */
import { Type } from 'typebox';
import { getDelivery, listDeliveries, retryDelivery } from '../../store/deliveries.ts';
import { deliveryBody } from '../../store/delivery-body.ts';
import type { App, AppContext } from '../context.ts';
import { DEFAULT_LIMIT, decodeCursor, PageOf, PageQuery, page } from '../pagination.ts';
import { TenantParams } from '../schemas/common.ts';
import {
  DeliveryBodyOut,
  DeliveryDetailOut,
  DeliveryOut,
  DeliveryParams,
  DeliveryStatus,
  EventTypeName,
} from '../schemas/event.ts';

const Id = Type.String({ minLength: 1, maxLength: 200 });

export function deliveryRoutes(app: App, ctx: AppContext): void {
  const tags = ['deliveries'];
  const config = { access: 'tenant' as const };

  app.get(
    '/v1/tenants/:tenantId/deliveries',
    {
      config,
      schema: {
        tags,
        operationId: 'listDeliveries',
        summary: "List the tenant's deliveries, newest first",
        params: TenantParams,
        querystring: Type.Object({
          ...PageQuery,
          endpointId: Type.Optional(Id),
          status: Type.Optional(DeliveryStatus),
          eventId: Type.Optional(Id),
          eventType: Type.Optional(EventTypeName),
        }),
        response: { 200: PageOf(DeliveryOut) },
      },
    },
    async (req) => {
      const { limit = DEFAULT_LIMIT, cursor, endpointId, status, eventId, eventType } = req.query;
      const before = decodeCursor(cursor);
      const rows = await listDeliveries(ctx.db, req.params.tenantId, {
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(endpointId !== undefined ? { endpointId } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(eventId !== undefined ? { eventId } : {}),
        ...(eventType !== undefined ? { eventType } : {}),
      });
      return page(rows, limit, (d) => d.id);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/deliveries/:deliveryId',
    {
      config,
      schema: {
        tags,
        operationId: 'getDelivery',
        summary: 'Get a delivery with all its attempts',
        errors: ['DELIVERY_NOT_FOUND'],
        params: DeliveryParams,
        response: { 200: DeliveryDetailOut },
      },
    },
    async (req) => getDelivery(ctx.db, req.params.tenantId, req.params.deliveryId),
  );

  app.get(
    '/v1/tenants/:tenantId/deliveries/:deliveryId/body',
    {
      config,
      schema: {
        tags,
        operationId: 'getDeliveryBody',
        summary: 'Get the request body of a delivery, rebuilt from its events',
        errors: ['DELIVERY_NOT_FOUND'],
        description:
          'Attempts keep their request headers, not the body: it is rendered again from the stored ' +
          "events through the endpoint's profile, as the sender does. `exact` is true when that is " +
          'byte for byte the body of the last attempt (before any attempt: of the first); otherwise ' +
          '`notes` say why (a purged payload gives no body, an endpoint changed since the first ' +
          'attempt, a format that puts the time of sending into the body).',
        params: DeliveryParams,
        response: { 200: DeliveryBodyOut },
      },
    },
    async (req) => deliveryBody(ctx.db, req.params.tenantId, req.params.deliveryId, ctx.clock),
  );

  app.post(
    '/v1/tenants/:tenantId/deliveries/:deliveryId/retry',
    {
      config,
      schema: {
        tags,
        operationId: 'retryDelivery',
        summary: 'Send a delivery again now',
        errors: ['DELIVERY_NOT_FOUND'],
        description:
          'A finished delivery goes back to pending, due now, keeping its attempts; a waiting one is ' +
          'made due now; one being sent right now is left as it is.',
        params: DeliveryParams,
        response: { 202: DeliveryOut },
      },
    },
    async (req, reply) => {
      const delivery = await retryDelivery(ctx.db, req.params.tenantId, req.params.deliveryId);
      return reply.code(202).send(delivery);
    },
  );
}

/**
 * `/v1/operational-endpoints`: the operator's webhooks for Herald's own events (an endpoint
 * disabled, a circuit opened or closed, a delivery exhausted, an endpoint recovered), and
 * `/v1/operational-event-types`, what they can subscribe to. Admin key only.
 *
 * They are endpoints of the operational tenant (src/core/operational-tenant.ts), with the same body
 * and validation as a tenant's (SSRF policy included), the standard profile only, and event types
 * among Herald's own (src/endpoints/operational-endpoint.ts). Their deliveries, events and attempts
 * are read through the tenant routes of `_herald`, which refuse every other write to it
 * (src/api/operational-tenant-guard.ts).
 */
import { Type } from 'typebox';
import { OPERATIONAL_TENANT_ID } from '../../core/operational-tenant.ts';
import { validateEndpointPatch } from '../../endpoints/endpoint-validation.ts';
import { checkOperationalEndpoint } from '../../endpoints/operational-endpoint.ts';
import { OPERATIONAL_EVENT_TYPES } from '../../event-types/operational-event-types.ts';
import { deleteEndpoint, getEndpoint, updateEndpoint } from '../../store/endpoints.ts';
import type { App, AppContext } from '../context.ts';
import { PageOf } from '../pagination.ts';
import {
  CreatedEndpointOut,
  EndpointCreateBody,
  EndpointListQuery,
  EndpointOut,
  EndpointPatchBody,
  EndpointSecretOut,
  RotateSecretBody,
} from '../schemas/endpoint.ts';
import { OperationalEndpointParams, OperationalEventTypeOut } from '../schemas/operational.ts';
import { createEndpointOf, FIELD_ERRORS, listEndpointsPage, rotateSecretOf } from './endpoint-handlers.ts';

const TENANT = OPERATIONAL_TENANT_ID;

export function operationalEndpointRoutes(app: App, ctx: AppContext): void {
  const tags = ['operational-webhooks'];
  const config = { access: 'admin' as const };

  app.get(
    '/v1/operational-event-types',
    {
      config,
      schema: {
        tags,
        operationId: 'listOperationalEventTypes',
        summary: "Herald's own event types, which operational endpoints subscribe to",
        response: { 200: Type.Object({ data: Type.Array(OperationalEventTypeOut) }) },
      },
    },
    async () => ({ data: [...OPERATIONAL_EVENT_TYPES] }),
  );

  app.post(
    '/v1/operational-endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'createOperationalEndpoint',
        summary: "Register a webhook for Herald's own events (the answer holds its signing secret)",
        errors: [...FIELD_ERRORS, 'LIMIT_EXCEEDED'],
        body: EndpointCreateBody,
        response: { 201: CreatedEndpointOut },
      },
    },
    async (req, reply) => {
      checkOperationalEndpoint(req.body);
      return reply.code(201).send(await createEndpointOf(ctx, TENANT, req.body));
    },
  );

  app.get(
    '/v1/operational-endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'listOperationalEndpoints',
        summary: 'List the operational endpoints, newest first (never their secrets)',
        querystring: EndpointListQuery,
        response: { 200: PageOf(EndpointOut) },
      },
    },
    async (req) => listEndpointsPage(ctx, TENANT, req.query),
  );

  app.get(
    '/v1/operational-endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'getOperationalEndpoint',
        summary: 'Get an operational endpoint',
        params: OperationalEndpointParams,
        errors: ['ENDPOINT_NOT_FOUND'],
        response: { 200: EndpointOut },
      },
    },
    async (req) => getEndpoint(ctx.db, ctx.secretBox, TENANT, req.params.endpointId),
  );

  app.patch(
    '/v1/operational-endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'updateOperationalEndpoint',
        summary: 'Change an operational endpoint (active: false pauses it, true resumes it)',
        errors: [...FIELD_ERRORS, 'ENDPOINT_NOT_FOUND'],
        params: OperationalEndpointParams,
        body: EndpointPatchBody,
        response: { 200: EndpointOut },
      },
    },
    async (req) => {
      checkOperationalEndpoint(req.body);
      const patch = await validateEndpointPatch(req.body, ctx.config);
      return updateEndpoint(ctx.db, ctx.secretBox, TENANT, req.params.endpointId, patch);
    },
  );

  app.delete(
    '/v1/operational-endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'deleteOperationalEndpoint',
        summary: 'Delete an operational endpoint and its deliveries',
        params: OperationalEndpointParams,
        errors: ['ENDPOINT_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      await deleteEndpoint(ctx.db, TENANT, req.params.endpointId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/operational-endpoints/:endpointId/rotate-secret',
    {
      config,
      schema: {
        tags,
        operationId: 'rotateOperationalEndpointSecret',
        summary: 'Rotate the signing secret; the old one keeps signing alongside for 24 h',
        errors: ['ENDPOINT_NOT_FOUND'],
        params: OperationalEndpointParams,
        body: RotateSecretBody,
        response: { 200: EndpointSecretOut },
      },
    },
    async (req) => rotateSecretOf(ctx, TENANT, req.params.endpointId, req.body),
  );
}

/**
 * `/v1/tenants/:tenantId/endpoints`: a tenant's endpoints. The operator, or a key of the same
 * tenant, creates, reads, changes and deletes them; the signing secret is shown on creation and at
 * `…/secret`, never in lists (an Ed25519 endpoint shows its `whpk_` public key there instead).
 */
import { Type } from 'typebox';
import { urlSpellings } from '../../endpoints/endpoint-url.ts';
import { validateEndpointPatch } from '../../endpoints/endpoint-validation.ts';
import { getEndpointSecret } from '../../store/endpoint-secrets.ts';
import { deleteEndpoint, deleteEndpointsByUrl, getEndpoint, updateEndpoint } from '../../store/endpoints.ts';
import type { App, AppContext } from '../context.ts';
import { PageOf } from '../pagination.ts';
import { TenantParams } from '../schemas/common.ts';
import {
  CreatedEndpointOut,
  EndpointCreateBody,
  EndpointDeleteByUrlQuery,
  EndpointListQuery,
  EndpointOut,
  EndpointParams,
  EndpointPatchBody,
  EndpointSecretOut,
  RotateSecretBody,
} from '../schemas/endpoint.ts';
import { createEndpointOf, FIELD_ERRORS, listEndpointsPage, rotateSecretOf } from './endpoint-handlers.ts';

export function endpointRoutes(app: App, ctx: AppContext): void {
  const tags = ['endpoints'];
  const config = { access: 'tenant' as const };

  app.post(
    '/v1/tenants/:tenantId/endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'createEndpoint',
        summary: 'Create an endpoint (the answer holds its signing secret)',
        errors: [...FIELD_ERRORS, 'LIMIT_EXCEEDED'],
        params: TenantParams,
        body: EndpointCreateBody,
        response: { 201: CreatedEndpointOut },
      },
    },
    async (req, reply) => {
      return reply.code(201).send(await createEndpointOf(ctx, req.params.tenantId, req.body));
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'listEndpoints',
        summary: "List a tenant's endpoints, newest first (never their secrets)",
        params: TenantParams,
        querystring: EndpointListQuery,
        response: { 200: PageOf(EndpointOut) },
      },
    },
    async (req) => listEndpointsPage(ctx, req.params.tenantId, req.query),
  );

  app.delete(
    '/v1/tenants/:tenantId/endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'deleteEndpointsByUrl',
        summary: 'Delete every endpoint of the tenant with this URL (unregister)',
        // None with that URL: 404, as deleting one by id.
        errors: ['ENDPOINT_NOT_FOUND'],
        params: TenantParams,
        querystring: EndpointDeleteByUrlQuery,
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      await deleteEndpointsByUrl(ctx.db, req.params.tenantId, urlSpellings(req.query.url));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'getEndpoint',
        summary: 'Get an endpoint',
        params: EndpointParams,
        errors: ['ENDPOINT_NOT_FOUND'],
        response: { 200: EndpointOut },
      },
    },
    async (req) => getEndpoint(ctx.db, ctx.secretBox, req.params.tenantId, req.params.endpointId),
  );

  app.patch(
    '/v1/tenants/:tenantId/endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'updateEndpoint',
        summary: 'Change an endpoint (active: true re-enables a disabled one)',
        errors: [...FIELD_ERRORS, 'ENDPOINT_NOT_FOUND'],
        params: EndpointParams,
        body: EndpointPatchBody,
        response: { 200: EndpointOut },
      },
    },
    async (req) => {
      const patch = await validateEndpointPatch(req.body, ctx.config);
      return updateEndpoint(ctx.db, ctx.secretBox, req.params.tenantId, req.params.endpointId, patch);
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/endpoints/:endpointId',
    {
      config,
      schema: {
        tags,
        operationId: 'deleteEndpoint',
        summary: 'Delete an endpoint and its deliveries',
        params: EndpointParams,
        errors: ['ENDPOINT_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      await deleteEndpoint(ctx.db, req.params.tenantId, req.params.endpointId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints/:endpointId/secret',
    {
      config,
      schema: {
        tags,
        operationId: 'getEndpointSecret',
        summary:
          "What receivers verify with: the current signing secret, or an Ed25519 endpoint's public key",
        errors: ['ENDPOINT_NOT_FOUND'],
        params: EndpointParams,
        response: { 200: EndpointSecretOut },
      },
    },
    async (req) => ({
      secret: await getEndpointSecret(ctx.db, ctx.secretBox, req.params.tenantId, req.params.endpointId),
    }),
  );

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/rotate-secret',
    {
      config,
      schema: {
        tags,
        operationId: 'rotateEndpointSecret',
        summary: 'Rotate the signing secret; the old one keeps signing alongside for 24 h',
        errors: ['ENDPOINT_NOT_FOUND'],
        params: EndpointParams,
        body: RotateSecretBody,
        response: { 200: EndpointSecretOut },
      },
    },
    async (req) => rotateSecretOf(ctx, req.params.tenantId, req.params.endpointId, req.body),
  );
}

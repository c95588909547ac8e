/** `/v1/tenants`: the operator creates and manages tenants; a tenant key may read its own. */
import { Type } from 'typebox';
import { newId } from '../../core/ids.ts';
import { createTenant, deleteTenant, getTenant, listTenants, updateTenant } from '../../store/tenants.ts';
import type { ActiveKeys } from '../active-keys.ts';
import type { App, AppContext } from '../context.ts';
import { DEFAULT_LIMIT, decodeCursor, PageOf, PageQuery, page } from '../pagination.ts';
import { ClientId, DisplayName, Metadata, TenantParams, Timestamp } from '../schemas/common.ts';

const TenantOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Name = DisplayName;

/** `activeKeys`: what authentication keeps of tenant keys; a deleted tenant's are forgotten at once. */
export function tenantRoutes(app: App, ctx: AppContext, activeKeys: ActiveKeys): void {
  const tags = ['tenants'];
  app.post(
    '/v1/tenants',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'createTenant',
        summary: 'Create a tenant',
        errors: ['TENANT_EXISTS', 'TENANT_ID_RESERVED'],
        body: Type.Object(
          { id: Type.Optional(ClientId), name: Name, metadata: Type.Optional(Metadata) },
          { additionalProperties: false },
        ),
        response: { 201: TenantOut },
      },
    },
    async (req, reply) => {
      const tenant = await createTenant(ctx.db, {
        id: req.body.id ?? newId('ten'),
        name: req.body.name,
        metadata: req.body.metadata ?? {},
      });
      return reply.code(201).send(tenant);
    },
  );

  app.get(
    '/v1/tenants',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'listTenants',
        summary: "List tenants (not `_herald`, Herald's own operational tenant)",
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(TenantOut) },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? DEFAULT_LIMIT;
      const before = decodeCursor(req.query.cursor);
      const rows = await listTenants(ctx.db, { limit: limit + 1, ...(before ? { before } : {}) });
      return page(rows, limit, (t) => t.id);
    },
  );

  app.get(
    '/v1/tenants/:tenantId',
    {
      config: { access: 'tenant' },
      schema: {
        tags,
        operationId: 'getTenant',
        summary: 'Get a tenant',
        params: TenantParams,
        response: { 200: TenantOut },
      },
    },
    async (req) => getTenant(ctx.db, req.params.tenantId),
  );

  app.patch(
    '/v1/tenants/:tenantId',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'updateTenant',
        summary: 'Update a tenant',
        errors: ['TENANT_NOT_FOUND'],
        params: TenantParams,
        body: Type.Object(
          { name: Type.Optional(Name), metadata: Type.Optional(Metadata) },
          { additionalProperties: false },
        ),
        response: { 200: TenantOut },
      },
    },
    async (req) => updateTenant(ctx.db, req.params.tenantId, req.body),
  );

  app.delete(
    '/v1/tenants/:tenantId',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'deleteTenant',
        summary: 'Delete a tenant and all it owns',
        params: TenantParams,
        errors: ['TENANT_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      await deleteTenant(ctx.db, req.params.tenantId);
      activeKeys.forgetTenant(req.params.tenantId);
      return reply.code(204).send(null);
    },
  );
}

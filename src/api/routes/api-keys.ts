/**
 * `/v1/tenants/:tenantId/api-keys`: a tenant's own API keys. The operator, or a key of the same
 * tenant, creates, lists and revokes them; the key is shown once, on creation.
 */
import { Type } from 'typebox';
import { createApiKey, listApiKeys, revokeApiKey } from '../../store/api-keys.ts';
import type { ActiveKeys } from '../active-keys.ts';
import type { App, AppContext } from '../context.ts';
import { DEFAULT_LIMIT, decodeCursor, PageOf, PageQuery, page } from '../pagination.ts';
import { DisplayName, Nullable, TenantParams, Timestamp } from '../schemas/common.ts';

const ApiKeyFields = {
  id: Type.String(),
  tenantId: Type.String(),
  name: Nullable(Type.String()),
  prefix: Type.String({ description: 'the first characters of the key, to recognise it by' }),
  createdAt: Timestamp,
};

const ApiKeyOut = Type.Object({
  ...ApiKeyFields,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
});

const NewApiKeyOut = Type.Object({
  ...ApiKeyFields,
  key: Type.String({ description: 'the key itself: shown only in this answer, stored hashed' }),
});

const KeyParams = Type.Object({ ...TenantParams.properties, keyId: Type.String({ maxLength: 200 }) });

/** `activeKeys`: what authentication keeps of tenant keys; a revoked one is forgotten at once. */
export function apiKeyRoutes(app: App, ctx: AppContext, activeKeys: ActiveKeys): void {
  const tags = ['api-keys'];
  const config = { access: 'tenant-key' as const };

  app.post(
    '/v1/tenants/:tenantId/api-keys',
    {
      config,
      schema: {
        tags,
        operationId: 'createApiKey',
        summary: 'Create a tenant API key (the key is shown only in this answer)',
        errors: ['LIMIT_EXCEEDED'],
        params: TenantParams,
        body: Type.Object({ name: Type.Optional(Nullable(DisplayName)) }, { additionalProperties: false }),
        response: { 201: NewApiKeyOut },
      },
      // A bare POST (no body at all) is a key without a name.
      preValidation: async (req) => {
        if (req.body === undefined) req.body = {};
      },
    },
    async (req, reply) => {
      const key = await createApiKey(ctx.db, {
        tenantId: req.params.tenantId,
        name: req.body.name ?? null,
        maxKeys: ctx.config.maxApiKeysPerTenant,
      });
      return reply.code(201).send(key);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/api-keys',
    {
      config,
      schema: {
        tags,
        operationId: 'listApiKeys',
        summary: "List a tenant's API keys (never the keys themselves)",
        params: TenantParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(ApiKeyOut) },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? DEFAULT_LIMIT;
      const before = decodeCursor(req.query.cursor);
      const rows = await listApiKeys(ctx.db, req.params.tenantId, {
        limit: limit + 1,
        ...(before ? { before } : {}),
      });
      return page(rows, limit, (k) => k.id);
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/api-keys/:keyId',
    {
      config,
      schema: {
        tags,
        operationId: 'revokeApiKey',
        summary: 'Revoke a tenant API key; it answers 401 from then on',
        params: KeyParams,
        errors: ['API_KEY_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      await revokeApiKey(ctx.db, req.params.tenantId, req.params.keyId);
      activeKeys.forgetKey(req.params.keyId);
      return reply.code(204).send(null);
    },
  );
}

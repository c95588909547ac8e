/**
 * `POST /v1/tenants/{tid}/portal-sessions`: the operator mints a short-lived link into the tenant
 * portal, to embed in its own product. The token rides in the URL's fragment (`/portal#token=…`), so
 * browsers never send it to a server and it stays out of access logs.
 */
import { Type } from 'typebox';
import {
  ACCENT_COLOR_PATTERN,
  accentColorProblem,
  logoUrlProblem,
  PORTAL_LOGO_URL_MAX,
  PORTAL_NAME_MAX,
  type PortalBranding,
  portalNameProblem,
} from '../../config/portal-branding.ts';
import { HeraldError } from '../../core/errors.ts';
import {
  PORTAL_SESSION_DEFAULT_SECONDS,
  PORTAL_SESSION_MAX_SECONDS,
  PORTAL_SESSION_MIN_SECONDS,
  portalSigningKey,
  signPortalToken,
} from '../../security/portal-token.ts';
import { endPortalSessions, portalBinding } from '../../store/portal-sessions.ts';
import type { App, AppContext } from '../context.ts';
import { TenantParams, Timestamp } from '../schemas/common.ts';

const Branding = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: PORTAL_NAME_MAX,
        description: "the portal's title: your product's name",
      }),
    ),
    logoUrl: Type.Optional(
      Type.String({
        maxLength: PORTAL_LOGO_URL_MAX,
        description: 'an https:// image shown beside the title',
      }),
    ),
    accentColor: Type.Optional(
      Type.String({ pattern: ACCENT_COLOR_PATTERN, description: 'links and buttons, like #2450c9' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "This session's branding of the portal page, over the configured one (HERALD_PORTAL_NAME, " +
      'HERALD_PORTAL_LOGO_URL, HERALD_PORTAL_ACCENT_COLOR).',
  },
);

/** The branding's values checked as the configuration checks them (src/config/portal-branding.ts). */
function checkBranding(b: PortalBranding): void {
  const problems = [
    ['name', b.name, portalNameProblem],
    ['logoUrl', b.logoUrl, logoUrlProblem],
    ['accentColor', b.accentColor, accentColorProblem],
  ] as const;
  for (const [field, value, problem] of problems) {
    const why = value === undefined ? undefined : problem(value);
    if (why) {
      const path = `branding.${field}`;
      throw new HeraldError('VALIDATION_FAILED', `${path}: ${why}`, [{ path, message: why }]);
    }
  }
}

export function portalSessionRoutes(app: App, ctx: AppContext): void {
  const key = portalSigningKey(ctx.adminKeyHash);
  app.post(
    '/v1/tenants/:tenantId/portal-sessions',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tenants'],
        operationId: 'createPortalSession',
        summary: 'Create a signed, short-lived link into the tenant portal',
        errors: ['TENANT_NOT_FOUND'],
        description:
          "The token reaches this tenant's routes, like a tenant key but for its API keys, until " +
          "`expiresAt`, or until the tenant's sessions are ended (`DELETE` on this path) or the " +
          'tenant is deleted; changing the admin key ends every session.',
        params: TenantParams,
        body: Type.Union([
          Type.Object(
            {
              expiresIn: Type.Optional(
                Type.Integer({
                  minimum: PORTAL_SESSION_MIN_SECONDS,
                  maximum: PORTAL_SESSION_MAX_SECONDS,
                  description: `lifetime in seconds (default ${PORTAL_SESSION_DEFAULT_SECONDS})`,
                }),
              ),
              branding: Type.Optional(Branding),
            },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: {
          201: Type.Object({
            url: Type.String({ description: 'absolute link to the portal, the token in its fragment' }),
            token: Type.String({ description: 'the bearer credential itself, for API calls' }),
            expiresAt: Timestamp,
          }),
        },
      },
    },
    async (req, reply) => {
      const branding = req.body?.branding;
      if (branding) checkBranding(branding);
      const binding = await portalBinding(ctx.db, req.params.tenantId);
      if (!binding) throw new HeraldError('TENANT_NOT_FOUND');
      const seconds = req.body?.expiresIn ?? PORTAL_SESSION_DEFAULT_SECONDS;
      const expiresAt = new Date(Math.floor(ctx.clock.now().getTime() / 1000 + seconds) * 1000);
      const token = signPortalToken(key, {
        tenantId: req.params.tenantId,
        ...binding,
        expiresAt,
        ...(branding ? { branding } : {}),
      });
      const url = `${req.protocol}://${req.host}/portal#token=${encodeURIComponent(token)}`;
      return reply.code(201).send({ url, token, expiresAt: expiresAt.toISOString() });
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/portal-sessions',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tenants'],
        operationId: 'endPortalSessions',
        summary: 'End every portal session of the tenant',
        description: 'Every portal token minted for the tenant so far stops working at once (401).',
        params: TenantParams,
        errors: ['TENANT_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      if (!(await endPortalSessions(ctx.db, req.params.tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
      return reply.code(204).send(null);
    },
  );
}

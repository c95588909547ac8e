/**
 * Builds the HTTP API: Fastify with TypeBox schemas (validation, response shaping and the OpenAPI
 * document all come from the same schema), authentication, and every route module.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions, LogController } from 'fastify';
import { webRoutes } from '../web/web-routes.ts';
import { createActiveKeys } from './active-keys.ts';
import { createAuthenticator } from './auth.ts';
import { type ClientLimits, DEFAULT_CLIENT_LIMITS, serverTimeouts } from './client-limits.ts';
import type { App, AppContext } from './context.ts';
import { errorHandler } from './error-handler.ts';
import { installHeaderLimits } from './header-limits.ts';
import { parseJsonBody } from './json-body.ts';
import { unroutedRefusal } from './method-not-allowed.ts';
import { openapiOptions } from './openapi.ts';
import { guardOperationalTenant } from './operational-tenant-guard.ts';
import { createRateLimit } from './rate-limit.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import { endpointActionRoutes } from './routes/endpoint-actions.ts';
import { endpointStatsRoutes } from './routes/endpoint-stats.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { eventRoutes } from './routes/events.ts';
import { operationalEndpointRoutes } from './routes/operational-endpoints.ts';
import { operatorStatsRoutes } from './routes/operator-stats.ts';
import { opsRoutes } from './routes/ops.ts';
import { portalSessionRoutes } from './routes/portal-sessions.ts';
import { profileRoutes } from './routes/profiles.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { validatorCompiler } from './validator.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
  /** Timeouts and the connection cap (client-limits.ts); tests shorten them. */
  clientLimits?: Partial<ClientLimits>;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<App> {
  const limits = { ...DEFAULT_CLIENT_LIMITS, ...options.clientLimits };
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request (below), not Fastify's two ("incoming request", "request completed").
    // Through a LogController: Fastify 5.12 deprecates the top-level `disableRequestLogging`, and
    // warns at start-up (FSTDEP023) if it is given.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    ...serverTimeouts(limits),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = limits.maxConnections;

  app.setValidatorCompiler(validatorCompiler);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  // Fastify reads text/plain bodies as strings by default; every body Herald takes is JSON, so a
  // text/plain one is refused as a missing content type is: 415 UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    const refusal = unroutedRefusal(app, req, reply);
    void reply.code(refusal.status).send(refusal.toJSON());
  });

  // The request's presented key, read once by whichever hook needs it first (auth.ts). Declared
  // before any plugin is registered: a plugin's requests only carry the fields declared before it.
  app.decorateRequest('presented', null);
  await app.register(swagger, openapiOptions());
  app.addHook('onRoute', (route) => {
    // Swagger UI's own routes carry no access setting: they are public pages.
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No calls to swagger.io's validator: the page loads nothing from outside Herald.
    uiConfig: { docExpansion: 'list', validatorUrl: null },
    // The plugin's policy (hashes of its inline scripts), made stricter: no framing at all
    // (clickjacking; issue 16), and no upgrade to https, which would break the page on plain http.
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
        .replace(' validator.swagger.io', '')
        .replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  installHeaderLimits(app, ctx);
  // Each request logged once, when answered, with what both of Fastify's lines held: the request
  // (method, URL, client), the status and the time — ~8 µs a line at the default level, with the
  // redaction (docs/operations.md, "Logs").
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
  const rateLimit = createRateLimit(ctx);
  const activeKeys = createActiveKeys();
  app.addHook('onRequest', rateLimit.byKey);
  app.addHook('onRequest', createAuthenticator(ctx, activeKeys));
  app.addHook('onRequest', rateLimit.byTenant);
  app.addHook('onRequest', guardOperationalTenant);

  opsRoutes(app, ctx);
  tenantRoutes(app, ctx, activeKeys);
  apiKeyRoutes(app, ctx, activeKeys);
  eventTypeRoutes(app, ctx);
  eventRoutes(app, ctx);
  deliveryRoutes(app, ctx);
  endpointRoutes(app, ctx);
  endpointActionRoutes(app, ctx);
  endpointStatsRoutes(app, ctx);
  operatorStatsRoutes(app, ctx);
  operationalEndpointRoutes(app, ctx);
  portalSessionRoutes(app, ctx);
  profileRoutes(app);
  const { portalName, portalLogoUrl, portalAccentColor } = ctx.config;
  webRoutes(app, {
    frameAncestors: ctx.config.portalFrameAncestors,
    branding: {
      name: portalName,
      ...(portalLogoUrl ? { logoUrl: portalLogoUrl } : {}),
      ...(portalAccentColor ? { accentColor: portalAccentColor } : {}),
    },
  });
  return app;
}

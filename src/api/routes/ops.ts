/**
 * Operational routes: liveness, readiness (src/metrics/readiness.ts: the database answers, and this
 * process's dispatcher runs if it has one), the OpenAPI document, docs, metrics. A worker serves the
 * same three probes without the API (src/server/ops-server.ts).
 */
import { Type } from 'typebox';
import { createMetrics } from '../../metrics/metrics.ts';
import { assertReady } from '../../metrics/readiness.ts';
import type { App, AppContext } from '../context.ts';

export function opsRoutes(app: App, ctx: AppContext): void {
  const config = { access: 'public' as const };
  const tags = ['ops'];
  app.get(
    '/healthz',
    {
      config,
      schema: {
        tags,
        operationId: 'getLiveness',
        summary: 'Liveness',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags,
        operationId: 'getReadiness',
        summary: "Readiness: the database answers, and this process's dispatcher runs if it has one",
        errors: ['SERVICE_UNAVAILABLE'],
        response: { 200: Type.Object({ status: Type.Literal('ready') }) },
      },
    },
    async () => {
      await assertReady({ db: ctx.db, dispatcher: ctx.dispatcher });
      return { status: 'ready' as const };
    },
  );

  // An API-only process has no dispatcher counters, but still reports the queue from the database.
  const metrics = ctx.metrics ?? createMetrics({ db: ctx.db });
  app.get(
    '/metrics',
    {
      config,
      schema: {
        tags,
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        // The queue's figures are read from the database.
        errors: ['DATABASE_UNAVAILABLE'],
        response: {
          200: {
            description: 'The Prometheus text exposition format',
            content: { 'text/plain': { schema: Type.String() } },
          },
        },
      },
    },
    async (_req, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );

  app.get('/openapi.json', { config, schema: { hide: true } }, async () => app.swagger());
}

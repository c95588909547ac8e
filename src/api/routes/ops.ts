/** Operational routes: liveness, readiness (the database answers), the OpenAPI document, docs, metrics. */
import { HeraldError } from '../../core/errors.ts';
import { createMetrics } from '../../metrics/metrics.ts';
import type { App, AppContext } from '../context.ts';

export function opsRoutes(app: App, ctx: AppContext): void {
  const config = { access: 'public' as const };
  app.get('/healthz', { config, schema: { tags: ['ops'], summary: 'Liveness' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { config, schema: { tags: ['ops'], summary: 'Readiness: the database answers' } },
    async () => {
      try {
        await ctx.db.query('SELECT 1');
      } catch (err) {
        throw new HeraldError('SERVICE_UNAVAILABLE', 'The database is not reachable', [], { cause: err });
      }
      return { status: 'ready' };
    },
  );

  // An API-only process has no dispatcher counters, but still reports the queue from the database.
  const metrics = ctx.metrics ?? createMetrics({ db: ctx.db });
  app.get(
    '/metrics',
    { config, schema: { tags: ['ops'], summary: 'Prometheus metrics' } },
    async (_req, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );

  app.get('/openapi.json', { config, schema: { hide: true } }, async () => app.swagger());
}

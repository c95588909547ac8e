/** Operational routes: liveness, readiness (the database answers), the OpenAPI document, docs. */

import { HeraldError } from '../../errors.ts';
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

  app.get('/openapi.json', { config, schema: { hide: true } }, async () => app.swagger());
}

/**
 * `GET /v1/stats`: the operator's health page — the due backlog and how many endpoints have an open
 * circuit or a lowered limit (the same figures as /metrics, from src/queue/queue-stats.ts and
 * src/store/endpoint-health.ts), failing, disabled and circuit-open endpoints, and attempts per
 * bucket by outcome. Lists are capped at 20 rows; the reads are src/store/stats.ts's.
 */
import { queueStats } from '../../queue/queue-stats.ts';
import { endpointHealthCounts, toHealth } from '../../store/endpoint-health.ts';
import { attemptBuckets, type EndpointRefRow, endpointTrouble } from '../../store/stats.ts';
import type { App, AppContext } from '../context.ts';
import { OperatorStatsOut, StatsQuery } from '../schemas/stats.ts';
import { fillBuckets, queueNow, statsWindow } from './stats-window.ts';

const LIST_LIMIT = 20;

const ref = (r: EndpointRefRow) => ({ tenantId: r.tenant_id, endpointId: r.id, url: r.url, name: r.name });

export function operatorStatsRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/v1/stats',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['ops'],
        operationId: 'getOperatorStats',
        summary: 'Queue and endpoint health for the operator',
        querystring: StatsQuery,
        response: { 200: OperatorStatsOut },
      },
    },
    async (req) => {
      const w = statsWindow(req.query.window ?? '1h', ctx.clock);
      const now = ctx.clock.now();
      const queue = await queueStats(ctx.db, { now: queueNow(ctx.clock) });
      const trouble = await endpointTrouble(ctx.db, LIST_LIMIT, queueNow(ctx.clock));
      const health = await endpointHealthCounts(ctx.db);
      const rows = await attemptBuckets(ctx.db, w);
      const byBucket = new Map(rows.map((r) => [r.bucket, r]));
      return {
        generatedAt: now.toISOString(),
        window: w.window,
        queue: {
          due: queue.due,
          oldestDueAgeSeconds: queue.oldestDueAgeSeconds,
          oldestDueAt:
            queue.due > 0 ? new Date(now.getTime() - queue.oldestDueAgeSeconds * 1000).toISOString() : null,
        },
        endpoints: {
          failing: trouble.failingCount,
          disabled: trouble.disabledCount,
          circuitOpen: health.circuitOpen,
          throttled: health.throttled,
          failingList: trouble.failing.map((r) => ({
            ...ref(r),
            failingSince: r.failing_since.toISOString(),
            disablesAt: new Date(
              r.failing_since.getTime() + ctx.config.disableAfterSeconds * 1000,
            ).toISOString(),
          })),
          disabledList: trouble.disabled.map((r) => ({
            ...ref(r),
            disabledReason: r.disabled_reason,
            disabledAt: r.disabled_at ? r.disabled_at.toISOString() : null,
          })),
          circuitOpenList: trouble.circuitOpen.map((r) => {
            const h = toHealth(r);
            return {
              ...ref(r),
              circuit: h.circuit === 'half_open' ? ('half_open' as const) : ('open' as const),
              circuitReason: h.circuitReason,
              circuitOpenedAt: h.circuitOpenedAt,
              circuitUntil: h.circuitUntil,
            };
          }),
        },
        attempts: {
          bucketSeconds: w.bucketSeconds,
          buckets: fillBuckets(w, (i) => ({
            succeeded: byBucket.get(i)?.succeeded ?? 0,
            rejected: byBucket.get(i)?.rejected ?? 0,
            errored: byBucket.get(i)?.errored ?? 0,
          })),
        },
      };
    },
  );
}

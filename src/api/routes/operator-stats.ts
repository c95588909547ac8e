/**
 * `GET /v1/stats`: the operator's health page — the due backlog and how many endpoints have an open
 * circuit or a lowered limit (the same figures as /metrics, from src/queue/queue-stats.ts and
 * src/store/endpoint-health.ts), failing, disabled and circuit-open endpoints, and attempts per
 * bucket by outcome. Lists are capped at 20 rows; the attempt buckets read the
 * `attempts (created_at)` index over one window only.
 */
import { queueStats } from '../../queue/queue-stats.ts';
import { nowSql } from '../../queue/queue-time.ts';
import {
  endpointHealthCounts,
  type HealthRow,
  healthColumns,
  toHealth,
} from '../../store/endpoint-health.ts';
import type { App, AppContext } from '../context.ts';
import { OperatorStatsOut, StatsQuery } from '../schemas/stats.ts';
import { bucketSql, fillBuckets, queueNow, statsWindow } from './stats-window.ts';

const LIST_LIMIT = 20;

interface EndpointRow {
  tenant_id: string;
  id: string;
  url: string;
  name: string | null;
}

const ref = (r: EndpointRow) => ({ tenantId: r.tenant_id, endpointId: r.id, url: r.url, name: r.name });

export function operatorStatsRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/v1/stats',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['ops'],
        summary: 'Queue and endpoint health for the operator',
        querystring: StatsQuery,
        response: { 200: OperatorStatsOut },
      },
    },
    async (req) => {
      const w = statsWindow(req.query.window ?? '1h', ctx.clock);
      const now = ctx.clock.now();
      const queue = await queueStats(ctx.db, { now: queueNow(ctx.clock) });
      const [counts] = await ctx.db.query<{ failing: number; disabled: number }>(
        `SELECT count(*) FILTER (WHERE active AND failing_since IS NOT NULL)::int AS failing,
           count(*) FILTER (WHERE NOT active)::int AS disabled
         FROM endpoints`,
      );
      const failing = await ctx.db.query<EndpointRow & { failing_since: Date }>(
        `SELECT tenant_id, id, url, name, failing_since FROM endpoints
         WHERE active AND failing_since IS NOT NULL ORDER BY failing_since, id LIMIT $1`,
        [LIST_LIMIT],
      );
      const disabled = await ctx.db.query<
        EndpointRow & { disabled_reason: string | null; disabled_at: Date | null }
      >(
        `SELECT tenant_id, id, url, name, disabled_reason, disabled_at FROM endpoints
         WHERE NOT active ORDER BY disabled_at DESC NULLS LAST, id LIMIT $1`,
        [LIST_LIMIT],
      );
      const health = await endpointHealthCounts(ctx.db);
      // Half-open by the queue's clock, as the claim decides it.
      const circuitOpen = await ctx.db.query<EndpointRow & HealthRow>(
        `SELECT tenant_id, id, url, name, ${healthColumns(nowSql('$2'))}
         FROM endpoints WHERE active AND circuit_state = 'open'
         ORDER BY circuit_opened_at NULLS LAST, id LIMIT $1`,
        [LIST_LIMIT, queueNow(ctx.clock)],
      );
      const rows = await ctx.db.query<{
        bucket: number;
        succeeded: number;
        rejected: number;
        errored: number;
      }>(
        `SELECT ${bucketSql('created_at', '$1', '$3')} AS bucket,
           count(*) FILTER (WHERE error_kind IS NULL)::int AS succeeded,
           count(*) FILTER (WHERE error_kind = 'http_status')::int AS rejected,
           count(*) FILTER (WHERE error_kind IS NOT NULL AND error_kind <> 'http_status')::int AS errored
         FROM attempts WHERE created_at >= $1 AND created_at < $2
         GROUP BY 1`,
        [w.from, w.to, w.bucketSeconds],
      );
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
          failing: counts?.failing ?? 0,
          disabled: counts?.disabled ?? 0,
          circuitOpen: health.circuitOpen,
          throttled: health.throttled,
          failingList: failing.map((r) => ({ ...ref(r), failingSince: r.failing_since.toISOString() })),
          disabledList: disabled.map((r) => ({
            ...ref(r),
            disabledReason: r.disabled_reason,
            disabledAt: r.disabled_at ? r.disabled_at.toISOString() : null,
          })),
          circuitOpenList: circuitOpen.map((r) => {
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

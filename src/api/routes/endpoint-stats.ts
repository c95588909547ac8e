/**
 * Endpoint health from its attempts: `GET …/endpoint-stats?endpointIds=` (the endpoints list: success
 * rate and last attempt of up to 100 endpoints in one call) and `GET …/endpoints/{id}/stats` (the
 * detail page's chart: success rate and latency per bucket). The reads are src/store/stats.ts's.
 */
import { Type } from 'typebox';
import { HeraldError, invalid } from '../../core/errors.ts';
import { notFoundUnder } from '../../store/deliveries.ts';
import {
  endpointAttemptBuckets,
  endpointLastAttempt,
  endpointSummaries,
  type LastAttemptRow,
} from '../../store/stats.ts';
import { tenantExists } from '../../store/tenants.ts';
import type { App, AppContext } from '../context.ts';
import { TenantParams } from '../schemas/common.ts';
import { EndpointParams } from '../schemas/event.ts';
import { EndpointStatsOut, EndpointSummaryOut, EndpointSummaryQuery, StatsQuery } from '../schemas/stats.ts';
import { fillBuckets, rate, statsWindow } from './stats-window.ts';

const MAX_SUMMARY_IDS = 100;

const lastAttempt = (r: LastAttemptRow) =>
  r.last_started_at
    ? {
        startedAt: r.last_started_at.toISOString(),
        statusCode: r.last_status_code,
        errorKind: r.last_error_kind,
      }
    : null;

export function endpointStatsRoutes(app: App, ctx: AppContext): void {
  /** When an endpoint failing since `since` is disabled if it keeps failing (src/delivery/auto-disable.ts). */
  const disablesAt = (since: Date | null) =>
    since ? new Date(since.getTime() + ctx.config.disableAfterSeconds * 1000).toISOString() : null;

  const tags = ['endpoints'];
  const config = { access: 'tenant' as const };

  app.get(
    '/v1/tenants/:tenantId/endpoint-stats',
    {
      config,
      schema: {
        tags,
        operationId: 'listEndpointSummaries',
        summary: 'Success rate and last attempt of several endpoints',
        description: 'Figures over the window (default 24h); ids the tenant does not own are left out.',
        params: TenantParams,
        querystring: EndpointSummaryQuery,
        response: { 200: Type.Object({ window: Type.String(), data: Type.Array(EndpointSummaryOut) }) },
      },
    },
    async (req) => {
      const { tenantId } = req.params;
      const ids = [...new Set(req.query.endpointIds.split(',').map((s) => s.trim()))].filter(Boolean);
      if (ids.length === 0 || ids.length > MAX_SUMMARY_IDS) {
        throw invalid('querystring.endpointIds', `must name 1 to ${MAX_SUMMARY_IDS} endpoints`);
      }
      const w = statsWindow(req.query.window ?? '24h', ctx.clock);
      const rows = await endpointSummaries(ctx.db, tenantId, ids, w);
      if (rows.length === 0 && !(await tenantExists(ctx.db, tenantId)))
        throw new HeraldError('TENANT_NOT_FOUND');
      return {
        window: w.window,
        data: rows.map((r) => ({
          endpointId: r.id,
          attempts: r.attempts,
          succeeded: r.succeeded,
          failed: r.attempts - r.succeeded,
          successRate: rate(r.succeeded, r.attempts),
          lastAttempt: lastAttempt(r),
          failingSince: r.failing_since ? r.failing_since.toISOString() : null,
          disablesAt: disablesAt(r.failing_since),
        })),
      };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints/:endpointId/stats',
    {
      config,
      schema: {
        tags,
        operationId: 'getEndpointStats',
        summary: "An endpoint's success rate and latency per bucket over a window",
        errors: ['ENDPOINT_NOT_FOUND'],
        params: EndpointParams,
        querystring: StatsQuery,
        response: { 200: EndpointStatsOut },
      },
    },
    async (req) => {
      const { tenantId, endpointId } = req.params;
      const w = statsWindow(req.query.window ?? '24h', ctx.clock);
      const endpoint = await endpointLastAttempt(ctx.db, tenantId, endpointId);
      if (!endpoint) return notFoundUnder(ctx.db, tenantId, 'ENDPOINT_NOT_FOUND');
      const rows = await endpointAttemptBuckets(ctx.db, endpointId, w);
      const byBucket = new Map(rows.map((r) => [r.bucket, r]));
      const attempts = rows.reduce((n, r) => n + r.attempts, 0);
      const succeeded = rows.reduce((n, r) => n + r.succeeded, 0);
      const sumMs = rows.reduce((n, r) => n + r.sum_ms, 0);
      return {
        endpointId,
        window: w.window,
        from: w.from.toISOString(),
        to: w.to.toISOString(),
        bucketSeconds: w.bucketSeconds,
        totals: {
          attempts,
          succeeded,
          failed: attempts - succeeded,
          successRate: rate(succeeded, attempts),
          avgDurationMs: attempts > 0 ? sumMs / attempts : null,
        },
        lastAttempt: lastAttempt(endpoint),
        failingSince: endpoint.failing_since ? endpoint.failing_since.toISOString() : null,
        disablesAt: disablesAt(endpoint.failing_since),
        buckets: fillBuckets(w, (i) => {
          const r = byBucket.get(i);
          return {
            attempts: r?.attempts ?? 0,
            succeeded: r?.succeeded ?? 0,
            successRate: r ? rate(r.succeeded, r.attempts) : null,
            avgDurationMs: r?.avg_ms ?? null,
            p95DurationMs: r?.p95_ms ?? null,
          };
        }),
      };
    },
  );
}

/** Schemas of the read-only figures the dashboard and the portal draw: endpoint health and queue health. */
import { Type } from 'typebox';
import { Nullable, Timestamp } from './common.ts';

/** The time window a figure covers: the last hour (one-minute buckets) or day (one-hour buckets). */
export const StatsWindow = Type.Union([Type.Literal('1h'), Type.Literal('24h')], {
  description: '`1h` (one-minute buckets) or `24h` (one-hour buckets)',
});

export const StatsQuery = Type.Object({ window: Type.Optional(StatsWindow) });

const SuccessRate = Nullable(
  Type.Number({ description: 'succeeded ÷ attempts, 0–1; null without attempts' }),
);

export const LastAttempt = Nullable(
  Type.Object({
    startedAt: Timestamp,
    statusCode: Nullable(Type.Integer()),
    errorKind: Nullable(Type.String({ description: 'null when the attempt succeeded' })),
  }),
);

/** One endpoint's attempt figures over the window, as the endpoints list shows them. */
export const EndpointSummaryOut = Type.Object({
  endpointId: Type.String(),
  attempts: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  successRate: SuccessRate,
  lastAttempt: LastAttempt,
  failingSince: Nullable(Timestamp),
  disablesAt: Nullable(
    Type.String({
      format: 'date-time',
      description:
        'when the endpoint is disabled if it keeps failing: failingSince + HERALD_DISABLE_AFTER (null while it succeeds)',
    }),
  ),
});

export const EndpointSummaryQuery = Type.Object({
  window: Type.Optional(StatsWindow),
  endpointIds: Type.String({
    minLength: 1,
    maxLength: 20_000,
    description: 'comma-separated endpoint ids, at most 100 (ids of other tenants are left out)',
  }),
});

export const EndpointStatsBucket = Type.Object({
  start: Timestamp,
  attempts: Type.Integer(),
  succeeded: Type.Integer(),
  successRate: SuccessRate,
  avgDurationMs: Nullable(Type.Number()),
  p95DurationMs: Nullable(Type.Number()),
});

export const EndpointStatsOut = Type.Object({
  endpointId: Type.String(),
  window: StatsWindow,
  from: Timestamp,
  to: Timestamp,
  bucketSeconds: Type.Integer(),
  totals: Type.Object({
    attempts: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    successRate: SuccessRate,
    avgDurationMs: Nullable(Type.Number()),
  }),
  lastAttempt: LastAttempt,
  failingSince: Nullable(Timestamp),
  disablesAt: Nullable(
    Type.String({
      format: 'date-time',
      description:
        'when the endpoint is disabled if it keeps failing: failingSince + HERALD_DISABLE_AFTER (null while it succeeds)',
    }),
  ),
  buckets: Type.Array(EndpointStatsBucket, { description: 'oldest first, one per bucket, empty ones too' }),
});

const EndpointRef = {
  tenantId: Type.String(),
  endpointId: Type.String(),
  url: Type.String(),
  name: Nullable(Type.String()),
};

export const OperatorStatsOut = Type.Object({
  generatedAt: Timestamp,
  window: StatsWindow,
  queue: Type.Object({
    due: Type.Integer({ description: 'pending deliveries whose time has come, of active endpoints' }),
    oldestDueAgeSeconds: Type.Number(),
    oldestDueAt: Nullable(Timestamp),
  }),
  endpoints: Type.Object({
    failing: Type.Integer({ description: 'active endpoints whose last attempt failed' }),
    disabled: Type.Integer({
      description: 'inactive endpoints (by the operator, a tenant, or auto-disable)',
    }),
    circuitOpen: Type.Integer({
      description:
        'active endpoints whose circuit is open, half-open included (herald_endpoints_circuit_open)',
    }),
    throttled: Type.Integer({
      description:
        'active endpoints failing and held below the maximum of requests in flight (herald_endpoints_throttled)',
    }),
    failingList: Type.Array(
      Type.Object({
        ...EndpointRef,
        failingSince: Timestamp,
        disablesAt: Type.String({
          format: 'date-time',
          description: 'when it is disabled if it keeps failing (failingSince + HERALD_DISABLE_AFTER)',
        }),
      }),
      {
        description: 'the 20 failing longest',
      },
    ),
    disabledList: Type.Array(
      Type.Object({
        ...EndpointRef,
        disabledReason: Nullable(Type.String()),
        disabledAt: Nullable(Timestamp),
      }),
      { description: 'the 20 disabled most recently' },
    ),
    circuitOpenList: Type.Array(
      Type.Object({
        ...EndpointRef,
        circuit: Type.Union([Type.Literal('open'), Type.Literal('half_open')]),
        circuitReason: Nullable(Type.String()),
        circuitOpenedAt: Nullable(Timestamp),
        circuitUntil: Nullable(Timestamp),
      }),
      { description: 'the 20 open longest' },
    ),
  }),
  attempts: Type.Object({
    bucketSeconds: Type.Integer(),
    buckets: Type.Array(
      Type.Object({
        start: Timestamp,
        succeeded: Type.Integer({ description: 'answered 2xx' }),
        rejected: Type.Integer({ description: 'answered with another status' }),
        errored: Type.Integer({
          description: 'no usable answer: timeout, connection, TLS, blocked address…',
        }),
      }),
      { description: 'oldest first, one per bucket, empty ones too' },
    ),
  }),
});

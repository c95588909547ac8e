/**
 * What the API's routes need from the rest of Herald. Built once at start (or per test).
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Config } from '../config/config.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/db.ts';
import type { HeraldMetrics } from '../metrics/metrics.ts';
import type { DeliveryHandoff } from '../queue/handoff.ts';
import type { SecretBox } from '../security/secret-box.ts';

export interface AppContext {
  db: Db;
  config: Config;
  /** SHA-256 hex of the admin key; the key itself is not kept in memory by the API. */
  adminKeyHash: string;
  secretBox: SecretBox;
  clock: Clock;
  /** What /metrics renders; shared with the dispatcher when both run in one process. */
  metrics?: HeraldMetrics;
  /** This process's dispatcher, when it runs one: publishing hands new deliveries to it directly. */
  handoff?: DeliveryHandoff;
  /** Whether this process's dispatcher, when it runs one, is running: /readyz is 503 while it is not. */
  dispatcher?: { readonly running: boolean };
}

/** The Fastify instance with TypeBox types, as every route module receives it. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Who is calling: the operator, one tenant through one of its keys, or one tenant's portal session
 * (a short-lived signed token: it acts for the tenant, except on `tenant-key` routes).
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'tenant'; tenantId: string; keyId: string }
  | { kind: 'portal'; tenantId: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * `public`: no key; `admin`: the admin key only; `tenant`: admin, or a key or portal session of
     * `:tenantId`; `tenant-key`: admin or a key of `:tenantId`, not a portal session (the tenant's
     * API keys: a session must not mint a credential that outlives it); `any`: any valid caller.
     */
    access?: 'public' | 'admin' | 'tenant' | 'tenant-key' | 'any';
  }
}

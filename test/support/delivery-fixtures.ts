/**
 * Test fixtures for the delivery engine: tenants, endpoints, events and deliveries inserted with
 * plain SQL (independent of the API), a loopback receiver that records what it gets, a manual clock
 * and a wait-for-condition helper.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/core/clock.ts';
import { newId } from '../../src/core/ids.ts';
import type { Db, Queryable } from '../../src/db/db.ts';
import { createSecretBox, generateEncryptionKey, type SecretBox } from '../../src/security/secret-box.ts';

export { type Truthy, waitFor } from './poll.ts';

export const testSecretBox: SecretBox = createSecretBox(generateEncryptionKey());

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export async function insertTenant(
  q: Queryable,
  id = `ten_${randomBytes(4).toString('hex')}`,
): Promise<string> {
  await q.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [id]);
  return id;
}

export interface EndpointFixture {
  url: string;
  secret?: string;
  previousSecret?: string;
  previousSecretUntil?: Date;
  headers?: Record<string, string>;
  auth?:
    | { type: 'bearer'; token: string }
    | { type: 'basic'; username: string; password: string }
    | { type: 'oauth2' };
  retrySchedule?: number[];
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  rateLimitPerSecond?: number;
  ordering?: 'none' | 'fifo';
  active?: boolean;
  profile?: string;
  failingSince?: Date;
  /** The adaptive limit; default null (at the maximum, as an endpoint that has been sending). */
  concurrencyLimit?: number | null;
}

export async function insertEndpoint(
  q: Queryable,
  tenantId: string,
  e: EndpointFixture,
  box: SecretBox = testSecretBox,
): Promise<{ id: string; secret: string }> {
  const id = newId('ep');
  const secret = e.secret ?? newSecret();
  await q.query(
    `INSERT INTO endpoints (id, tenant_id, url, secret_enc, previous_secret_enc, previous_secret_until, headers,
       auth_enc, auth_type, retry_schedule, connect_timeout_ms, total_timeout_ms, rate_limit_per_second,
       ordering, active, profile, failing_since, concurrency_limit)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::int[], $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      id,
      tenantId,
      e.url,
      box.seal(secret),
      e.previousSecret ? box.seal(e.previousSecret) : null,
      e.previousSecretUntil ?? null,
      JSON.stringify(e.headers ?? {}),
      e.auth ? box.seal(JSON.stringify(e.auth)) : null,
      e.auth?.type ?? null,
      e.retrySchedule ?? null,
      e.connectTimeoutMs ?? null,
      e.totalTimeoutMs ?? null,
      e.rateLimitPerSecond ?? null,
      e.ordering ?? 'none',
      e.active ?? true,
      e.profile ?? 'standard',
      e.failingSince ?? null,
      e.concurrencyLimit ?? null,
    ],
  );
  return { id, secret };
}

export interface EventFixture {
  id?: string;
  type?: string;
  data?: unknown;
  occurredAt?: Date;
  createdAt?: Date;
}

export async function insertEvent(q: Queryable, tenantId: string, e: EventFixture = {}): Promise<string> {
  const id = e.id ?? newId('msg');
  await q.query(
    `INSERT INTO events (tenant_id, id, type, data, occurred_at, batch_id, created_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, coalesce($7::timestamptz, now()))`,
    [
      tenantId,
      id,
      e.type ?? 'invoice.created',
      JSON.stringify(e.data ?? { n: 1 }),
      e.occurredAt ?? null,
      newId('bat'),
      e.createdAt ?? null,
    ],
  );
  return id;
}

/** A delivery of `eventIds` to the endpoint, with the endpoint's next sequence number; due now by default. */
export async function insertDelivery(
  q: Queryable,
  d: {
    tenantId: string;
    endpointId: string;
    eventIds: string[];
    eventType?: string;
    nextAttemptAt?: Date;
    fifo?: boolean;
  },
): Promise<{ id: string; sequence: number }> {
  const id = newId('dlv');
  const [row] = await q.query<{ sequence: number }>(
    `WITH seq AS (UPDATE endpoints SET last_sequence = last_sequence + 1,
       next_due_at = least(next_due_at, coalesce($6::timestamptz, now()))
       WHERE id = $3 RETURNING last_sequence, ordering)
     INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, fifo, next_attempt_at)
     SELECT $1, $2, $3, ($4::text[])[1], $4::text[], $5, seq.last_sequence, coalesce($7, seq.ordering = 'fifo'),
       coalesce($6::timestamptz, now())
     FROM seq
     RETURNING sequence`,
    [
      id,
      d.tenantId,
      d.endpointId,
      d.eventIds,
      d.eventType ?? 'invoice.created',
      d.nextAttemptAt ?? null,
      d.fifo ?? null,
    ],
  );
  if (!row) throw new Error(`no endpoint ${d.endpointId}`);
  return { id, sequence: row.sequence };
}

/** An event and its delivery to one endpoint. */
export async function publishOne(
  q: Queryable,
  tenantId: string,
  endpointId: string,
  event: EventFixture = {},
  delivery: { nextAttemptAt?: Date } = {},
): Promise<{ eventId: string; deliveryId: string; sequence: number }> {
  const eventId = await insertEvent(q, tenantId, event);
  const { id, sequence } = await insertDelivery(q, {
    tenantId,
    endpointId,
    eventIds: [eventId],
    eventType: event.type ?? 'invoice.created',
    ...delivery,
  });
  return { eventId, deliveryId: id, sequence };
}

export interface DeliveryState {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  locked_by: string | null;
  last_status_code: number | null;
  last_error: string | null;
  completed_at: Date | null;
}

export async function deliveryState(q: Queryable, id: string): Promise<DeliveryState> {
  const [row] = await q.query<DeliveryState>(
    `SELECT id, status, attempt_count, next_attempt_at, locked_by, last_status_code, last_error, completed_at
     FROM all_deliveries WHERE id = $1`,
    [id],
  );
  if (!row) throw new Error(`no delivery ${id}`);
  return row;
}

export interface AttemptRow {
  attempt_number: number;
  status_code: number | null;
  error_kind: string | null;
  error_message: string | null;
  duration_ms: number;
  response_excerpt: string | null;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
}

export async function attemptsOf(q: Queryable, deliveryId: string): Promise<AttemptRow[]> {
  return q.query<AttemptRow>(
    `SELECT attempt_number, status_code, error_kind, error_message, duration_ms, response_excerpt,
       request_headers, response_headers
     FROM attempts WHERE delivery_id = $1 ORDER BY attempt_number`,
    [deliveryId],
  );
}

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = new Date('2030-01-01T00:00:00Z')): ManualClock {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
  };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type ReceiverHandler = (req: ReceivedRequest, res: ServerResponse, index: number) => void;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  handle(handler: ReceiverHandler): void;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that records every request; answers 200 unless told otherwise. */
export async function startReceiver(handler?: ReceiverHandler): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let current: ReceiverHandler = handler ?? ((_req, res) => res.end('ok'));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = requests.push(received) - 1;
      current(received, res, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    handle(h) {
      current = h;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type { Db };

/**
 * A typed client for Herald's HTTP API (docs/design.md, "HTTP API conventions"; the routes in /openapi.json), one method per route, grouped by
 * resource. Uses the global `fetch` (or the one given); every refusal is a `HeraldApiError`.
 *
 * @example
 * const herald = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.HERALD_API_KEY });
 * await herald.events.publish('acme', { type: 'invoice.created', data: { id: 42 } });
 */
import { errorFromResponse, HeraldApiError } from './api-error.ts';
import { paginate } from './paginate.ts';
import type {
  ApiKey,
  CreatedEndpoint,
  Delivery,
  DeliveryDetail,
  DeliveryStatus,
  Endpoint,
  EndpointCreate,
  EndpointPatch,
  Event,
  EventDetail,
  EventInput,
  EventType,
  EventTypeCreate,
  EventTypePatch,
  NewApiKey,
  OperationalEventType,
  Page,
  PageParams,
  Profile,
  Tenant,
  TenantCreate,
  TenantPatch,
} from './types.ts';

export interface ClientOptions {
  /** Where Herald listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** The admin key or a tenant key. */
  apiKey?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface PublishOptions {
  /** Names the whole call: a repeat answers with the first call's events and sends nothing again. */
  idempotencyKey?: string;
}

export interface EndpointListParams extends PageParams {
  /** Only endpoints with this URL. */
  url?: string;
}

export interface EventListParams extends PageParams {
  type?: string;
}

export interface DeliveryListParams extends PageParams {
  endpointId?: string;
  status?: DeliveryStatus;
  eventId?: string;
}

const seg = encodeURIComponent;

function instant(value: Date | string): string {
  return typeof value === 'string' ? value : value.toISOString();
}

/** Creates a client. Nothing is sent until a method is called. */
export function createClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...options.headers,
      ...opts.headers,
    };
    if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw new HeraldApiError(
        0,
        'NETWORK_ERROR',
        `Cannot reach Herald at ${baseUrl}: ${(err as Error).message}`,
        [],
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  const tenants = {
    create: (body: TenantCreate) => request<Tenant>('POST', '/v1/tenants', { body }),
    list: (params: PageParams = {}) => request<Page<Tenant>>('GET', '/v1/tenants', { query: { ...params } }),
    iterate: (params: PageParams = {}) => paginate((p) => tenants.list(p), params),
    get: (tenantId: string) => request<Tenant>('GET', `/v1/tenants/${seg(tenantId)}`),
    update: (tenantId: string, patch: TenantPatch) =>
      request<Tenant>('PATCH', `/v1/tenants/${seg(tenantId)}`, { body: patch }),
    delete: (tenantId: string) => request<void>('DELETE', `/v1/tenants/${seg(tenantId)}`),
  };

  const apiKeys = {
    create: (tenantId: string, body: { name?: string | null } = {}) =>
      request<NewApiKey>('POST', `/v1/tenants/${seg(tenantId)}/api-keys`, { body }),
    list: (tenantId: string, params: PageParams = {}) =>
      request<Page<ApiKey>>('GET', `/v1/tenants/${seg(tenantId)}/api-keys`, { query: { ...params } }),
    iterate: (tenantId: string, params: PageParams = {}) =>
      paginate((p) => apiKeys.list(tenantId, p), params),
    revoke: (tenantId: string, keyId: string) =>
      request<void>('DELETE', `/v1/tenants/${seg(tenantId)}/api-keys/${seg(keyId)}`),
  };

  const eventTypes = {
    create: (body: EventTypeCreate) => request<EventType>('POST', '/v1/event-types', { body }),
    list: (params: PageParams = {}) =>
      request<Page<EventType>>('GET', '/v1/event-types', { query: { ...params } }),
    iterate: (params: PageParams = {}) => paginate((p) => eventTypes.list(p), params),
    get: (name: string) => request<EventType>('GET', `/v1/event-types/${seg(name)}`),
    update: (name: string, patch: EventTypePatch) =>
      request<EventType>('PATCH', `/v1/event-types/${seg(name)}`, { body: patch }),
    delete: (name: string) => request<void>('DELETE', `/v1/event-types/${seg(name)}`),
  };

  const ep = (tenantId: string, endpointId?: string) =>
    `/v1/tenants/${seg(tenantId)}/endpoints${endpointId === undefined ? '' : `/${seg(endpointId)}`}`;
  const endpoints = {
    /** The answer carries the endpoint's signing `secret`. */
    create: (tenantId: string, body: EndpointCreate) =>
      request<CreatedEndpoint>('POST', ep(tenantId), { body }),
    list: (tenantId: string, params: EndpointListParams = {}) =>
      request<Page<Endpoint>>('GET', ep(tenantId), { query: { ...params } }),
    iterate: (tenantId: string, params: EndpointListParams = {}) =>
      paginate((p) => endpoints.list(tenantId, p), params),
    get: (tenantId: string, endpointId: string) => request<Endpoint>('GET', ep(tenantId, endpointId)),
    update: (tenantId: string, endpointId: string, patch: EndpointPatch) =>
      request<Endpoint>('PATCH', ep(tenantId, endpointId), { body: patch }),
    delete: (tenantId: string, endpointId: string) => request<void>('DELETE', ep(tenantId, endpointId)),
    /** Unregisters every endpoint of the tenant with this URL. */
    deleteByUrl: (tenantId: string, url: string) => request<void>('DELETE', ep(tenantId), { query: { url } }),
    secret: (tenantId: string, endpointId: string) =>
      request<{ secret: string }>('GET', `${ep(tenantId, endpointId)}/secret`),
    /**
     * A new secret (given, or generated in `signatureScheme`, by default the endpoint's current one);
     * the old one keeps signing alongside for 24 h. Answers what receivers verify with from now on
     * (an Ed25519 endpoint's `whpk_` public key).
     */
    rotateSecret: (
      tenantId: string,
      endpointId: string,
      body: { secret?: string; signatureScheme?: 'hmac-sha256' | 'ed25519' } = {},
    ) => request<{ secret: string }>('POST', `${ep(tenantId, endpointId)}/rotate-secret`, { body }),
    /** The emulator: sends `data`, or the event type's example, to this endpoint now. */
    test: (
      tenantId: string,
      endpointId: string,
      body: { eventType: string; data?: Record<string, unknown> },
    ) => request<{ event: Event; deliveryId: string }>('POST', `${ep(tenantId, endpointId)}/test`, { body }),
    /** Re-queues this endpoint's failed deliveries created in the window. */
    recover: (
      tenantId: string,
      endpointId: string,
      window: { since: Date | string; until?: Date | string },
    ) =>
      request<{ recovered: number }>('POST', `${ep(tenantId, endpointId)}/recover`, {
        body: {
          since: instant(window.since),
          ...(window.until !== undefined ? { until: instant(window.until) } : {}),
        },
      }),
  };

  const publishHeaders = (o: PublishOptions): Record<string, string> =>
    o.idempotencyKey !== undefined ? { 'idempotency-key': o.idempotencyKey } : {};
  const events = {
    /** Publishes one event (202); a repeated `id` answers with the first event. */
    publish: (tenantId: string, event: EventInput, opts: PublishOptions = {}) =>
      request<Event>('POST', `/v1/tenants/${seg(tenantId)}/events`, {
        body: event,
        headers: publishHeaders(opts),
      }),
    /** Publishes up to 100 events as one batch (one call, one Courier Invoice request). */
    publishBatch: async (tenantId: string, batch: EventInput[], opts: PublishOptions = {}) =>
      (
        await request<{ data: Event[] }>('POST', `/v1/tenants/${seg(tenantId)}/events`, {
          body: { events: batch },
          headers: publishHeaders(opts),
        })
      ).data,
    list: (tenantId: string, params: EventListParams = {}) =>
      request<Page<Event>>('GET', `/v1/tenants/${seg(tenantId)}/events`, { query: { ...params } }),
    iterate: (tenantId: string, params: EventListParams = {}) =>
      paginate((p) => events.list(tenantId, p), params),
    /** The event with the status of its delivery to each endpoint. */
    get: (tenantId: string, eventId: string) =>
      request<EventDetail>('GET', `/v1/tenants/${seg(tenantId)}/events/${seg(eventId)}`),
  };

  const deliveries = {
    list: (tenantId: string, params: DeliveryListParams = {}) =>
      request<Page<Delivery>>('GET', `/v1/tenants/${seg(tenantId)}/deliveries`, { query: { ...params } }),
    iterate: (tenantId: string, params: DeliveryListParams = {}) =>
      paginate((p) => deliveries.list(tenantId, p), params),
    /** The delivery with every attempt. */
    get: (tenantId: string, deliveryId: string) =>
      request<DeliveryDetail>('GET', `/v1/tenants/${seg(tenantId)}/deliveries/${seg(deliveryId)}`),
    /** Sends the delivery again now. */
    retry: (tenantId: string, deliveryId: string) =>
      request<Delivery>('POST', `/v1/tenants/${seg(tenantId)}/deliveries/${seg(deliveryId)}/retry`),
  };

  const op = (endpointId?: string) =>
    `/v1/operational-endpoints${endpointId === undefined ? '' : `/${seg(endpointId)}`}`;
  /**
   * The operator's webhooks for Herald's own events (admin key only): endpoints of the operational
   * tenant `_herald`, whose deliveries `deliveries.list('_herald', …)` reads.
   */
  const operationalEndpoints = {
    /** The answer carries the endpoint's signing `secret`. */
    create: (body: EndpointCreate) => request<CreatedEndpoint>('POST', op(), { body }),
    list: (params: EndpointListParams = {}) => request<Page<Endpoint>>('GET', op(), { query: { ...params } }),
    iterate: (params: EndpointListParams = {}) => paginate((p) => operationalEndpoints.list(p), params),
    get: (endpointId: string) => request<Endpoint>('GET', op(endpointId)),
    update: (endpointId: string, patch: EndpointPatch) =>
      request<Endpoint>('PATCH', op(endpointId), { body: patch }),
    delete: (endpointId: string) => request<void>('DELETE', op(endpointId)),
    rotateSecret: (
      endpointId: string,
      body: { secret?: string; signatureScheme?: 'hmac-sha256' | 'ed25519' } = {},
    ) => request<{ secret: string }>('POST', `${op(endpointId)}/rotate-secret`, { body }),
    /** Herald's own event types, with their schemas and examples. */
    eventTypes: () => request<{ data: OperationalEventType[] }>('GET', '/v1/operational-event-types'),
  };

  const profiles = {
    /** The wire formats an endpoint can use, as each describes itself. */
    list: () => request<{ data: Profile[] }>('GET', '/v1/profiles'),
  };

  const health = {
    /** Liveness: the process answers. */
    live: () => request<{ status: string }>('GET', '/healthz'),
    /** Readiness: the database answers (503 `SERVICE_UNAVAILABLE` otherwise). */
    ready: () => request<{ status: string }>('GET', '/readyz'),
  };

  return {
    baseUrl,
    tenants,
    apiKeys,
    eventTypes,
    endpoints,
    operationalEndpoints,
    events,
    deliveries,
    profiles,
    health,
    request,
  };
}

export type HeraldClient = ReturnType<typeof createClient>;

/**
 * The OpenAPI document (served at /openapi.json, rendered at /docs) beyond what each route's own
 * schema says: info, servers, tags, the one error schema, and every operation's error responses.
 *
 * Error responses are derived, not written out per route, so they cannot drift from what the
 * request pipeline really does: every request can meet the rate limit (429); a method that carries
 * a body can meet the body parser (400 INVALID_JSON, 413, 415); a schema means 400 VALIDATION_FAILED; a
 * route behind a key can answer 401, 403 by its `access`, and 503 when the database is away. A
 * route adds the codes its own handler throws with `schema.errors`. Each error response lists its
 * codes and carries one example per code, all with the shared `Error` schema — what
 * src/api/error-handler.ts sends. test/api/openapi.test.ts holds every route to this.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { type ErrorCode, ErrorCodes } from '../core/errors.ts';
import { refusesOperationalTenant } from './operational-tenant-guard.ts';
import { ErrorBody } from './schemas/common.ts';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The refusals this route's handler (or what it calls) can make, beyond those every route of its
     * kind can (see src/api/openapi.ts): they become its documented error responses.
     */
    errors?: readonly ErrorCode[];
  }
}

const ERROR_SCHEMA_REF = '#/components/schemas/Error';

const TAGS = [
  { name: 'tenants', description: "The operator's customers, and links into their portal." },
  { name: 'api-keys', description: "A tenant's own API keys, which reach only that tenant's routes." },
  {
    name: 'event-types',
    description: 'The global catalog of event types, with optional JSON Schemas and examples.',
  },
  { name: 'events', description: 'Publishing events (one or a batch) and reading them back.' },
  { name: 'endpoints', description: "A tenant's webhook endpoints, their secrets, tests and health." },
  { name: 'deliveries', description: 'What was sent where, every attempt, and sending again.' },
  { name: 'profiles', description: 'The wire formats an endpoint can use.' },
  { name: 'ops', description: 'Liveness, readiness, metrics and the operator’s health figures.' },
  {
    name: 'operational-webhooks',
    description:
      "The operator's webhooks for Herald's own events: endpoints disabled, circuits opened and closed, " +
      'deliveries exhausted, endpoints recovered.',
  },
];

const DESCRIPTION = [
  'Self-hosted webhook delivery: durable fan-out, signing, retries, attempt logs, replay.',
  '',
  'Every refusal is `{"error": {"code", "message", "details"}}` (schema `Error`) with a stable `code`;',
  "each operation lists the codes it can answer. Any request may also meet the server's own limits:",
  '`405 METHOD_NOT_ALLOWED` (a wrong method on a known path, with `Allow`), `404 ROUTE_NOT_FOUND`,',
  '`408 REQUEST_TIMEOUT`, `431 HEADERS_TOO_LARGE` and `400 MALFORMED_REQUEST`.',
].join('\n');

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Limit exceeded',
  429: 'Too many requests',
  503: 'Service unavailable',
};

/**
 * The codes the JSON body parser can answer. Fastify parses a body sent with any of these methods,
 * whether or not the route reads one — so a DELETE sent `content-type: application/json` and an empty
 * body is 400 INVALID_JSON too.
 */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const BODY_CODES: ErrorCode[] = [
  'INVALID_JSON',
  'VALIDATION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

interface RouteSchema {
  body?: unknown;
  querystring?: { properties?: Record<string, unknown> };
  params?: unknown;
  headers?: unknown;
  errors?: readonly ErrorCode[];
  hide?: boolean;
}

/** Every code `route` can answer with, in registry order. */
function routeErrorCodes(
  route: Pick<RouteOptions, 'method' | 'url' | 'config'>,
  schema: RouteSchema,
): ErrorCode[] {
  const codes = new Set<ErrorCode>(['RATE_LIMITED']);
  const access = route.config?.access ?? 'admin';
  const takesBody = schema.body || [route.method].flat().some((m) => BODY_METHODS.has(m.toUpperCase()));
  if (takesBody) for (const c of BODY_CODES) codes.add(c);
  if (schema.querystring || schema.params || schema.headers) codes.add('VALIDATION_FAILED');
  if (schema.querystring?.properties?.['cursor']) codes.add('INVALID_CURSOR');
  if (access !== 'public') {
    codes.add('UNAUTHORIZED');
    // Checking a tenant key or portal token reads the database.
    codes.add('DATABASE_UNAVAILABLE');
  }
  if (access === 'admin' || access === 'tenant-key') codes.add('FORBIDDEN');
  // Another tenant's key answers as if the tenant did not exist (src/api/auth.ts).
  if ((access === 'tenant' || access === 'tenant-key') && route.url.includes(':tenantId'))
    codes.add('TENANT_NOT_FOUND');
  // Herald's own tenant is changed only through /v1/operational-endpoints (operational-tenant-guard.ts).
  if ([route.method].flat().some((m) => refusesOperationalTenant(m, route.url))) codes.add('FORBIDDEN');
  for (const c of schema.errors ?? []) codes.add(c);
  return (Object.keys(ErrorCodes) as ErrorCode[]).filter((c) => codes.has(c));
}

function example(code: ErrorCode, schema: RouteSchema) {
  const details =
    code === 'VALIDATION_FAILED' && schema.body ? [{ path: 'body', message: 'must be object' }] : [];
  const message = details[0] ? `${details[0].path}: ${details[0].message}` : ErrorCodes[code].message;
  return { summary: ErrorCodes[code].message, value: { error: { code, message, details } } };
}

const retryAfter = {
  'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer' } },
};

/** The OpenAPI responses for `codes`, one per status, each listing its codes with an example. */
function errorResponses(codes: readonly ErrorCode[], schema: RouteSchema): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes)
    byStatus.set(ErrorCodes[c].status, [...(byStatus.get(ErrorCodes[c].status) ?? []), c]);
  const out: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `${STATUS_TEXT[status] ?? 'Refused'}: ${list.map((c) => `\`${c}\``).join(', ')}`,
      ...(status === 429 || status === 503 ? { headers: retryAfter } : {}),
      content: {
        'application/json': {
          schema: { $ref: ERROR_SCHEMA_REF },
          examples: Object.fromEntries(list.map((c) => [c, example(c, schema)])),
        },
      },
    };
  }
  return out;
}

const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The shared error schema as plain JSON Schema (TypeBox's own markers dropped). */
function errorSchema(): Record<string, unknown> {
  const { $id: _id, ...schema } = JSON.parse(JSON.stringify(ErrorBody)) as Record<string, unknown>;
  return {
    ...schema,
    description:
      'Every refusal. `code` is stable (branch on it, never on `message`); `details` names the ' +
      'offending fields where there are any.',
  };
}

type OpenapiDoc = {
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * Options for @fastify/swagger, fresh per app: the transform collects each route's error codes,
 * which transformObject then writes into the finished document.
 */
export function openapiOptions(): FastifyDynamicSwaggerOptions {
  const routeErrors = new Map<string, { codes: ErrorCode[]; schema: RouteSchema }>();
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald API',
        version: '1',
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: the document is served by the Herald it describes, wherever that listens.
      servers: [{ url: '/', description: 'the Herald serving this document' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'the admin key, a tenant key or a portal token',
          },
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'the same keys, in a header',
          },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform({ schema, url, route }) {
      const s = (schema ?? {}) as RouteSchema;
      if (!s.hide) {
        for (const method of [route.method].flat()) {
          routeErrors.set(`${method.toLowerCase()} ${openapiPath(url)}`, {
            codes: routeErrorCodes(route, s),
            schema: s,
          });
        }
      }
      // A public route (probes, metrics) takes no key: say so, overriding the document's default.
      const isPublic = route.config?.access === 'public';
      return { schema: isPublic ? { ...schema, security: [] } : schema, url };
    },
    transformObject(documentObject) {
      const doc = ('openapiObject' in documentObject ? documentObject.openapiObject : {}) as OpenapiDoc;
      doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Error: errorSchema() } };
      for (const [path, ops] of Object.entries(doc.paths ?? {})) {
        for (const [method, op] of Object.entries(ops)) {
          const found = routeErrors.get(`${method} ${path}`);
          if (found) op.responses = { ...op.responses, ...errorResponses(found.codes, found.schema) };
        }
      }
      return doc as ReturnType<NonNullable<FastifyDynamicSwaggerOptions['transformObject']>>;
    },
  };
}

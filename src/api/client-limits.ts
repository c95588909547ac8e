/**
 * How long and how many clients of the API may hold the server (issue 16): a request that declares
 * a body it never sends, headers that trickle in, a connection left open doing nothing, or more
 * connections than the process can carry would otherwise hold sockets and memory indefinitely
 * (Fastify sets no request timeout by default).
 *
 * - headers: the whole header block within `headersMs`; the whole request, body included, within
 *   `requestMs` — else 408 REQUEST_TIMEOUT (header-limits.ts answers it in Herald's format) and the
 *   connection is closed;
 * - a kept-alive connection idle between requests for `keepAliveMs` is closed, and any socket
 *   silent for `socketIdleMs` is destroyed;
 * - at most `maxConnections` connections at once: more are refused at accept.
 * Node checks the header and request timers every `checkEveryMs`, so they fire up to that much late.
 */
export interface ClientLimits {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  socketIdleMs: number;
  maxConnections: number;
  checkEveryMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  headersMs: 10_000,
  // A 1 MiB body (the most a call may carry) at ~40 KB/s.
  requestMs: 30_000,
  keepAliveMs: 72_000,
  socketIdleMs: 120_000,
  maxConnections: 10_000,
  checkEveryMs: 1_000,
};

/** The Fastify server options that apply `limits` (maxConnections is set on the server after). */
export function serverTimeouts(limits: ClientLimits) {
  return {
    requestTimeout: limits.requestMs,
    keepAliveTimeout: limits.keepAliveMs,
    connectionTimeout: limits.socketIdleMs,
    http: {
      headersTimeout: Math.min(limits.headersMs, limits.requestMs),
      requestTimeout: limits.requestMs,
      connectionsCheckingInterval: limits.checkEveryMs,
    },
  };
}

/**
 * The operational endpoints of a process without the API (`herald worker`): `/healthz` (the process
 * answers), `/readyz` (src/metrics/readiness.ts: the database answers and the dispatcher runs) and
 * `/metrics` (Prometheus text). The same answers as the API's routes (src/api/routes/ops.ts), from
 * the same readiness check and metrics; plain node:http, since a worker serves nothing else and needs
 * none of the API's authentication, limits or schemas.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_CLIENT_LIMITS } from '../api/client-limits.ts';
import { toHeraldError } from '../api/error-handler.ts';
import { HeraldError } from '../core/errors.ts';
import type { HeraldMetrics } from '../metrics/metrics.ts';
import { assertReady, type ReadinessSources } from '../metrics/readiness.ts';
import { listenError } from './startup-error.ts';

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: HeraldMetrics;
  readiness: ReadinessSources;
  log: Logger;
}

export interface OpsServer {
  /** `http://host:port`, the port chosen when 0 was asked. */
  url: string;
  close(): Promise<void>;
}

const ROUTES: Record<string, (o: OpsServerOptions) => Promise<{ type: string; body: string }>> = {
  '/healthz': async () => json({ status: 'ok' }),
  '/readyz': async (o) => {
    await assertReady(o.readiness);
    return json({ status: 'ready' });
  },
  '/metrics': async (o) => {
    const { contentType, body } = await o.metrics.render();
    return { type: contentType, body };
  },
};

function json(value: unknown): { type: string; body: string } {
  return { type: 'application/json; charset=utf-8', body: JSON.stringify(value) };
}

async function answer(o: OpsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  let status = 200;
  let out: { type: string; body: string };
  try {
    if (!route)
      throw new HeraldError(
        'ROUTE_NOT_FOUND',
        'No such route: a worker serves /healthz, /readyz and /metrics',
      );
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HeraldError('METHOD_NOT_ALLOWED');
    }
    out = await route(o);
  } catch (err) {
    // The API's mapping: a database that is not there is DATABASE_UNAVAILABLE, never a bare 500.
    const he = toHeraldError(err);
    if (he.code === 'DATABASE_UNAVAILABLE') res.setHeader('retry-after', '1');
    if (he.status >= 500 && he.code !== 'SERVICE_UNAVAILABLE') o.log.warn({ err }, `${path} failed`);
    status = he.status;
    out = json(he.toJSON());
  }
  res.writeHead(status, { 'content-type': out.type, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : out.body);
}

/**
 * Listens on `host:port` and serves the three routes; a listen failure is the StartupError the API's
 * would be (the port in use, no such address).
 */
export async function listenOps(o: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    req.resume();
    answer(o, req, res).catch((err: unknown) => {
      o.log.error({ err }, 'ops request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // A client holds a worker's port no longer than the API's would (src/api/client-limits.ts).
  const limits = DEFAULT_CLIENT_LIMITS;
  server.headersTimeout = limits.headersMs;
  server.requestTimeout = limits.requestMs;
  server.keepAliveTimeout = limits.keepAliveMs;
  server.timeout = limits.socketIdleMs;
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, o.host, o.port) ?? err));
    server.listen({ port: o.port, host: o.host }, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of a scraper would hold close() open.
        server.closeAllConnections();
      }),
  };
}

/**
 * A request the router has no route for may still name a known path with the wrong method: that is
 * 405 METHOD_NOT_ALLOWED with `Allow` listing the path's methods (RFC 9110 §15.5.6), not 404.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { HeraldError } from '../core/errors.ts';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The methods the router has a route for at `url` (a concrete request path, query allowed). */
function allowedMethods(app: FastifyInstance, url: string): HTTPMethods[] {
  return METHODS.filter((method) => app.findRoute({ method, url }) !== null);
}

/**
 * The refusal for a request no route took: 405 with `Allow` set on `reply` when its path is known
 * under other methods, else 404 ROUTE_NOT_FOUND.
 */
export function unroutedRefusal(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): HeraldError {
  const allow = allowedMethods(app, req.url);
  if (allow.length === 0) return new HeraldError('ROUTE_NOT_FOUND');
  void reply.header('allow', allow.join(', '));
  return new HeraldError(
    'METHOD_NOT_ALLOWED',
    `${req.method} is not allowed here; this path takes ${allow.join(', ')}`,
  );
}

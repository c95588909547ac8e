/**
 * Limits on request headers: how many, and how many bytes in all. Refusals are 431
 * `HEADERS_TOO_LARGE` with Herald's JSON error body.
 *
 * Node's HTTP parser has its own cap (`maxHeaderSize`, 16 KiB by default) and, above it, never hands
 * the request to Fastify: the server's `clientError` handler answers instead. So the parser's cap is
 * set above Herald's (room for a long request line), and the `clientError` handler is replaced with
 * one that answers in Herald's format too — a request with oversized headers gets the same 431 body
 * whichever layer notices. (Node keeps at most 2,000 headers and drops the rest, well above ours.)
 */
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { type ErrorCode, HeraldError } from '../core/errors.ts';
import type { App, AppContext } from './context.ts';

/** Request-line room on top of Herald's header limit before Node's own parser refuses. */
const REQUEST_LINE_ROOM = 8192;

/** Bytes of a header block as sent: `name: value\r\n` per header (Node decodes headers as latin1). */
export function headerBytes(rawHeaders: readonly string[]): number {
  let bytes = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    bytes += (rawHeaders[i]?.length ?? 0) + (rawHeaders[i + 1]?.length ?? 0) + 4;
  }
  return bytes;
}

function rawAnswer(code: ErrorCode, message?: string): string {
  const he = new HeraldError(code, message);
  const body = JSON.stringify(he.toJSON());
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[
    he.status as 400 | 408 | 431
  ];
  return (
    `HTTP/1.1 ${he.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** What the server answers when Node's parser refuses a request before Fastify sees it. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      socket.write(rawAnswer('HEADERS_TOO_LARGE', 'The request headers are too large'));
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.write(rawAnswer('REQUEST_TIMEOUT'));
    } else {
      socket.write(rawAnswer('MALFORMED_REQUEST'));
    }
  }
  socket.destroy(err);
}

/**
 * Installs the limits on `app`: an onRequest hook (register before authentication) and the
 * server-level parser settings.
 *
 * @example installHeaderLimits(app, ctx)
 */
export function installHeaderLimits(app: App, ctx: AppContext): void {
  const { maxHeaderCount, maxHeaderBytes } = ctx.config;
  // Undocumented but read per connection by Node's http server (checked by the header-limit test).
  (app.server as unknown as { maxHeaderSize: number }).maxHeaderSize = maxHeaderBytes + REQUEST_LINE_ROOM;
  app.server.removeAllListeners('clientError');
  app.server.on('clientError', onClientError);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const raw = request.raw.rawHeaders;
    const count = raw.length / 2;
    if (count > maxHeaderCount) {
      throw new HeraldError(
        'HEADERS_TOO_LARGE',
        `The request has ${count} headers; at most ${maxHeaderCount}`,
        [{ path: 'headers', message: `at most ${maxHeaderCount} headers` }],
      );
    }
    const bytes = headerBytes(raw);
    if (bytes > maxHeaderBytes) {
      throw new HeraldError(
        'HEADERS_TOO_LARGE',
        `The request headers are ${bytes} bytes; at most ${maxHeaderBytes}`,
        [{ path: 'headers', message: `at most ${maxHeaderBytes} bytes` }],
      );
    }
  });
}

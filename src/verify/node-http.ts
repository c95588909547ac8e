/**
 * Node's `http` server: read the raw body from the IncomingMessage, then verify it.
 *
 * @example
 * http.createServer(async (req, res) => {
 *   try {
 *     const payload = await verifyNodeRequest(req, { profile: 'standard', secret });
 *     res.writeHead(204).end();
 *   } catch (err) {
 *     res.writeHead(err instanceof WebhookVerificationError ? 400 : 500).end();
 *   }
 * });
 */
import type { IncomingMessage } from 'node:http';
import { WebhookVerificationError } from './verification-error.ts';
import { type VerifiedWebhook, type VerifierOptions, verifyWebhookDetailed } from './verify-webhook.ts';

/** 1 MiB: more than any Herald profile sends for one delivery of reasonable events. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Reads the whole body as bytes; refuses (INVALID_BODY) bodies larger than `limit` bytes. */
export async function readRawBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new WebhookVerificationError('INVALID_BODY', `The body is larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Reads and verifies a request; resolves to the parsed body. */
export async function verifyNodeRequest<T = unknown>(
  req: IncomingMessage,
  options: VerifierOptions & { bodyLimit?: number },
): Promise<T> {
  return (await verifyNodeRequestDetailed<T>(req, options)).payload;
}

/** Like `verifyNodeRequest`, with the message's id, event type and signing time. */
export async function verifyNodeRequestDetailed<T = unknown>(
  req: IncomingMessage,
  options: VerifierOptions & { bodyLimit?: number },
): Promise<VerifiedWebhook<T>> {
  const { bodyLimit, ...rest } = options;
  const body = await readRawBody(req, bodyLimit);
  return verifyWebhookDetailed<T>({ ...rest, body, headers: req.headers });
}

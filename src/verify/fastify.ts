/**
 * Fastify: keep JSON bodies as bytes with a content-type parser (`parseAs: 'buffer'`), then verify.
 * Fastify is not imported: the types below are the parts Herald uses.
 *
 * @example
 * await app.register(async (hooks) => {
 *   useRawJsonBody(hooks); // only inside this plugin: other routes keep Fastify's JSON parser
 *   hooks.post('/webhooks', async (req, reply) => {
 *     const payload = verifyFastifyRequest(req, { profile: 'altoviz', secret });
 *     return reply.code(204).send();
 *   });
 * });
 */
import type { WebhookHeaders } from './request-parts.ts';
import { WebhookVerificationError } from './verification-error.ts';
import { createVerifier, type VerifierOptions } from './verify-webhook.ts';

type Done = (err: Error | null, body?: unknown) => void;

/** The part of a Fastify instance `useRawJsonBody` calls. */
export interface FastifyLikeInstance {
  removeContentTypeParser?(contentType: string | string[]): unknown;
  addContentTypeParser(
    contentType: string | string[] | RegExp,
    opts: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (req: unknown, body: Buffer, done: Done) => void,
  ): unknown;
}

/** The part of a Fastify request Herald reads. */
export interface FastifyLikeRequest {
  body?: unknown;
  headers: WebhookHeaders;
}

/**
 * Makes `application/json` (and `+json`) bodies arrive as the raw Buffer in this Fastify instance
 * (register it inside a plugin to limit it to the webhook routes).
 */
export function useRawJsonBody(app: FastifyLikeInstance, opts: { bodyLimit?: number } = {}): void {
  app.removeContentTypeParser?.(['application/json']);
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json(;.*)?$/i,
    { parseAs: 'buffer', ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}) },
    (_req, body, done) => done(null, body),
  );
}

/** Verifies a Fastify request whose body `useRawJsonBody` kept as bytes; returns the parsed body. */
export function verifyFastifyRequest<T = unknown>(req: FastifyLikeRequest, options: VerifierOptions): T {
  if (!Buffer.isBuffer(req.body)) {
    throw new WebhookVerificationError(
      'INVALID_OPTIONS',
      'request.body is not a Buffer: call useRawJsonBody(app) in the plugin that declares this route',
    );
  }
  return createVerifier(options).verify<T>(req.body, req.headers);
}

/**
 * Express: mount `express.raw({ type: 'application/json' })` on the webhook route so `req.body` is the
 * exact bytes, then verify. Express is not imported: the types below are the parts Herald uses.
 *
 * @example
 * app.post('/webhooks', express.raw({ type: 'application/json' }),
 *   expressWebhookMiddleware({ profile: 'invoiceahoy', secret }),
 *   (req, res) => { handle(req.webhook); res.sendStatus(204); });
 */
import type { WebhookHeaders } from './request-parts.ts';
import { WebhookVerificationError } from './verification-error.ts';
import { createVerifier, type VerifiedWebhook, type VerifierOptions } from './verify-webhook.ts';

/** The part of an Express request Herald reads. */
export interface ExpressLikeRequest {
  body?: unknown;
  headers: WebhookHeaders;
  webhook?: VerifiedWebhook;
}

/** The part of an Express response Herald writes on refusal. */
export interface ExpressLikeResponse {
  status(code: number): { json(body: unknown): unknown };
}

function rawBodyOf(req: ExpressLikeRequest): Buffer {
  if (!Buffer.isBuffer(req.body)) {
    throw new WebhookVerificationError(
      'INVALID_OPTIONS',
      "req.body is not a Buffer: mount express.raw({ type: 'application/json' }) on this route, before any express.json()",
    );
  }
  return req.body;
}

/** Verifies an Express request whose body was read by `express.raw()`; returns the parsed body. */
export function verifyExpressRequest<T = unknown>(req: ExpressLikeRequest, options: VerifierOptions): T {
  return createVerifier(options).verify<T>(rawBodyOf(req), req.headers);
}

/**
 * Middleware: verified requests continue with `req.webhook` set (payload, id, event type); others are
 * answered `400 {"error": {"code", "message"}}` and go no further.
 */
export function expressWebhookMiddleware(options: VerifierOptions) {
  const verifier = createVerifier(options);
  return (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (err?: unknown) => void): void => {
    let verified: VerifiedWebhook;
    try {
      verified = verifier.verifyDetailed(rawBodyOf(req), req.headers);
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) {
        next(err);
        return;
      }
      res.status(400).json({ error: { code: err.code, message: err.message } });
      return;
    }
    req.webhook = verified;
    next();
  };
}

/**
 * `herald/verify`: check on the receiving side that a webhook request came from Herald, for every
 * profile. Depends on `node:crypto` only, so a receiver can use it without the rest of Herald.
 */
export {
  type ExpressLikeRequest,
  type ExpressLikeResponse,
  expressWebhookMiddleware,
  verifyExpressRequest,
} from './express.ts';
export {
  type FastifyLikeInstance,
  type FastifyLikeRequest,
  useRawJsonBody,
  verifyFastifyRequest,
} from './fastify.ts';
export {
  DEFAULT_BODY_LIMIT,
  readRawBody,
  verifyNodeRequest,
  verifyNodeRequestDetailed,
} from './node-http.ts';
export type { RawBody, WebhookHeaders } from './request-parts.ts';
export { standardKey, VERIFY_PROFILES, type VerifyProfileName, type WebhookSecret } from './schemes.ts';
export {
  VERIFICATION_ERROR_CODES,
  type VerificationErrorCode,
  WebhookVerificationError,
} from './verification-error.ts';
export {
  createVerifier,
  DEFAULT_TOLERANCE_SECONDS,
  type VerifiedWebhook,
  type Verifier,
  type VerifierOptions,
  type VerifyWebhookOptions,
  verifyWebhook,
  verifyWebhookDetailed,
} from './verify-webhook.ts';

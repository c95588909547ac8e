/**
 * The one error `verifyWebhook` throws. Receivers branch on `code` (stable), never on the message.
 */
export const VERIFICATION_ERROR_CODES = [
  /** A header the profile requires is absent (or empty). */
  'MISSING_HEADER',
  /** A header is present but malformed (a timestamp that is not an integer, a signature without `v1,`). */
  'INVALID_HEADER',
  /** No signature (or token) matches any of the secrets. */
  'INVALID_SIGNATURE',
  /** The signed timestamp is further from now than the tolerance. */
  'TIMESTAMP_OUT_OF_TOLERANCE',
  /** The body is not the JSON the profile sends (or, for Courier Invoice, has no integer `timestamp`). */
  'INVALID_BODY',
  /** `profile` is not one of Herald's profiles. */
  'UNKNOWN_PROFILE',
  /** The verifier itself was called wrongly: no secret, no Courier Invoice account number, a parsed body. */
  'INVALID_OPTIONS',
] as const;

export type VerificationErrorCode = (typeof VERIFICATION_ERROR_CODES)[number];

/**
 * Thrown when a webhook request cannot be trusted (or the verifier was misused).
 *
 * @example
 * try { verifyWebhook(opts) } catch (err) {
 *   if (err instanceof WebhookVerificationError) res.writeHead(400).end(err.code);
 * }
 */
export class WebhookVerificationError extends Error {
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

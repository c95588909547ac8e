/**
 * Receiver-side verification of any Herald profile, from the raw body and headers.
 *
 * @example
 * import { verifyWebhook } from 'herald/verify';
 * const payload = verifyWebhook({ profile: 'standard', secret, body: rawBody, headers: req.headers });
 */

import { checkStandardKey } from './ed25519.ts';
import { bodyBytes, headerValue, type RawBody, type WebhookHeaders } from './request-parts.ts';
import { SCHEMES, type VerifyProfileName, type WebhookSecret } from './schemes.ts';
import { WebhookVerificationError } from './verification-error.ts';

/** Standard Webhooks' tolerance, also applied to Courier Invoice's body timestamp: 5 minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** How to verify, apart from the request itself: what an app configures once per endpoint. */
export interface VerifierOptions {
  /** The endpoint's profile (`standard` when you did not choose one). */
  profile: VerifyProfileName | (string & {});
  /**
   * The endpoint's secret as Herald shows it (`whsec_…` for `standard`, or the `whpk_…` public key
   * of an endpoint signing with Ed25519; the bearer token for `corrigopro`). Several while you
   * rotate on your side: any of them verifies.
   */
  secret: WebhookSecret | readonly WebhookSecret[];
  /** Seconds a signed timestamp may be off from `now`, either way (default 300). */
  tolerance?: number;
  /** The current time (default: the clock), for the tolerance; a Date or epoch milliseconds. */
  now?: Date | number | (() => Date | number);
  /** Courier Invoice: your account number, part of the signed message. */
  accountNumber?: string | number;
}

export interface VerifyWebhookOptions extends VerifierOptions {
  /** The exact bytes received (a string is taken as UTF-8). Never a re-serialised object. */
  body: RawBody;
  headers: WebhookHeaders;
}

/** A request whose signature checked out. */
export interface VerifiedWebhook<T = unknown> {
  profile: VerifyProfileName;
  /** The parsed body. */
  payload: T;
  /** The message id the format carries (`webhook-id`), or the body's `id` (InvoiceAhoy, Altoviz). */
  id: string | undefined;
  /** The event type, from the body or the headers, where the format says it. */
  eventType: string | undefined;
  /** When the sender signed, for formats that sign a timestamp. */
  signedAt: Date | undefined;
}

function isProfile(name: string): name is VerifyProfileName {
  return Object.hasOwn(SCHEMES, name);
}

function nowSeconds(now: VerifierOptions['now']): number {
  const value = typeof now === 'function' ? now() : (now ?? Date.now());
  return (typeof value === 'number' ? value : value.getTime()) / 1000;
}

function field(payload: unknown, name: string): string | undefined {
  const value =
    payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** Where each format keeps the event type and id, for display and deduplication. */
function describe(profile: VerifyProfileName, payload: unknown, headers: WebhookHeaders, messageId?: string) {
  switch (profile) {
    case 'standard':
      return { id: messageId, eventType: field(payload, 'type') };
    case 'courier-invoice': {
      const first = (payload as { Data?: unknown[] } | null)?.Data?.[0];
      return { id: undefined, eventType: field(first, 'type') };
    }
    case 'shipstream':
      return { id: field(payload, 'message_id'), eventType: field(payload, 'topic') };
    case 'corrigopro': {
      const h = (payload as { Header?: unknown } | null)?.Header;
      return {
        id: field(h, 'MessageId'),
        eventType: field(h, 'Action') ?? headerValue(headers, 'event-type'),
      };
    }
    default:
      return { id: field(payload, 'id'), eventType: field(payload, 'type') };
  }
}

/** Checks options that do not depend on the request, so `createVerifier` fails at set-up time. */
function checkedOptions(options: VerifierOptions) {
  if (!isProfile(options.profile)) {
    throw new WebhookVerificationError(
      'UNKNOWN_PROFILE',
      `Unknown profile "${options.profile}" (known: ${Object.keys(SCHEMES).join(', ')})`,
    );
  }
  const list = (Array.isArray(options.secret) ? options.secret : [options.secret]) as WebhookSecret[];
  const secrets = list.filter((s) => s !== undefined && s !== null && s.length > 0);
  if (secrets.length === 0) throw new WebhookVerificationError('INVALID_OPTIONS', 'secret is required');
  if (options.profile === 'standard') for (const s of secrets) checkStandardKey(s);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(tolerance >= 0))
    throw new WebhookVerificationError('INVALID_OPTIONS', 'tolerance must be ≥ 0 seconds');
  const accountNumber = options.accountNumber === undefined ? undefined : String(options.accountNumber);
  return { profile: options.profile, secrets, tolerance, accountNumber, now: options.now };
}

function run<T>(opts: ReturnType<typeof checkedOptions>, rawBody: RawBody, headers: WebhookHeaders) {
  const body = bodyBytes(rawBody);
  const result = SCHEMES[opts.profile]({
    secrets: opts.secrets,
    body,
    headers,
    accountNumber: opts.accountNumber,
  });
  if (result.signedAt !== undefined) {
    const skew = Math.abs(nowSeconds(opts.now) - result.signedAt);
    if (skew > opts.tolerance) {
      throw new WebhookVerificationError(
        'TIMESTAMP_OUT_OF_TOLERANCE',
        `The signed timestamp is ${Math.round(skew)} s from now (tolerance ${opts.tolerance} s)`,
      );
    }
  }
  return {
    profile: opts.profile,
    payload: result.payload as T,
    ...describe(opts.profile, result.payload, headers, result.messageId),
    signedAt: result.signedAt === undefined ? undefined : new Date(result.signedAt * 1000),
  } satisfies VerifiedWebhook<T>;
}

/**
 * Verifies a request and returns its parsed body; throws `WebhookVerificationError` (with a stable
 * `code`) when it cannot be trusted. The signature is checked over the exact bytes, in constant time.
 */
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions): T {
  return run<T>(checkedOptions(options), options.body, options.headers).payload;
}

/** Like `verifyWebhook`, with what the format says about the message: id, event type, signing time. */
export function verifyWebhookDetailed<T = unknown>(options: VerifyWebhookOptions): VerifiedWebhook<T> {
  return run<T>(checkedOptions(options), options.body, options.headers);
}

/** A verifier bound to one endpoint's settings, as `new Webhook(secret)` is in `standardwebhooks`. */
export interface Verifier {
  verify<T = unknown>(body: RawBody, headers: WebhookHeaders): T;
  verifyDetailed<T = unknown>(body: RawBody, headers: WebhookHeaders): VerifiedWebhook<T>;
}

/**
 * Checks the settings once and returns a verifier for requests.
 *
 * @example
 * const verifier = createVerifier({ profile: 'shipstream', secret: process.env.SHIPSTREAM_SECRET! });
 * const payload = verifier.verify(rawBody, req.headers);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const opts = checkedOptions(options);
  return {
    verify: <T>(body: RawBody, headers: WebhookHeaders) => run<T>(opts, body, headers).payload,
    verifyDetailed: <T>(body: RawBody, headers: WebhookHeaders) => run<T>(opts, body, headers),
  };
}

/**
 * How each profile signs, seen from the receiver: which header carries the proof, what bytes it
 * covers, how it is encoded, and where the signed timestamp lives (if the format has one).
 * Mirrors the profiles table of docs/design.md (docs/profiles.md in full); the sending side lives in src/profiles/.
 */
import { createHmac } from 'node:crypto';
import { secretsEqual, signaturesEqual } from './constant-time.ts';
import { ed25519Verifies, isPublicKey } from './ed25519.ts';
import { parseJson, requireHeader, type WebhookHeaders } from './request-parts.ts';
import { WebhookVerificationError } from './verification-error.ts';

/** A signing secret: a string (used as Herald shows it) or the raw key bytes. */
export type WebhookSecret = string | Buffer | Uint8Array;

export interface SchemeInput {
  secrets: readonly WebhookSecret[];
  body: Buffer;
  headers: WebhookHeaders;
  accountNumber: string | undefined;
}

/** What a scheme establishes about a request whose proof checked out. */
export interface SchemeResult {
  payload: unknown;
  /** Unix seconds the sender signed, for the tolerance check; absent when the format has none. */
  signedAt?: number;
  /** The message id the format carries (Standard Webhooks' `webhook-id`). */
  messageId?: string;
}

export type Scheme = (input: SchemeInput) => SchemeResult;

function keyBytes(secret: WebhookSecret): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
}

/** The HMAC key of a Standard Webhooks secret: the base64 after the optional `whsec_` prefix. */
export function standardKey(secret: WebhookSecret): Buffer {
  if (typeof secret !== 'string') return Buffer.from(secret);
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

function hmac(key: Buffer, ...parts: (Buffer | string)[]) {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac;
}

function invalidSignature(header: string): WebhookVerificationError {
  return new WebhookVerificationError('INVALID_SIGNATURE', `${header} does not match the body and secret`);
}

function integerSeconds(value: string, header: string): number {
  if (!/^\d{1,12}$/.test(value)) {
    throw new WebhookVerificationError('INVALID_HEADER', `${header} is not a unix timestamp in seconds`);
  }
  return Number(value);
}

/**
 * Standard Webhooks: `v1,<base64 HMAC of "id.timestamp.body">` entries, or `v1a,<base64 Ed25519
 * signature>` of the same content, space-separated (several while a rotated key is live). A `whpk_`
 * public key checks the `v1a` entries, any other secret the `v1` ones; any entry made with any of
 * the keys verifies. Other versions are skipped.
 */
const standard: Scheme = ({ secrets, body, headers }) => {
  const id = requireHeader(headers, 'webhook-id');
  const timestamp = integerSeconds(requireHeader(headers, 'webhook-timestamp'), 'webhook-timestamp');
  const received = requireHeader(headers, 'webhook-signature')
    .split(' ')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const comma = entry.indexOf(',');
      return comma < 0
        ? { version: '', value: '' }
        : { version: entry.slice(0, comma), value: entry.slice(comma + 1) };
    });
  const v1 = received.filter((s) => s.version === 'v1');
  const v1a = received.filter((s) => s.version === 'v1a');
  const wanted = [
    ...(secrets.some((s) => !isPublicKey(s)) ? ['v1'] : []),
    ...(secrets.some(isPublicKey) ? ['v1a'] : []),
  ];
  if ((wanted.includes('v1') ? v1.length : 0) + (wanted.includes('v1a') ? v1a.length : 0) === 0) {
    const hint =
      wanted.includes('v1a') || v1a.length === 0
        ? ''
        : ' (its v1a entries are Ed25519: verify them with the endpoint’s whpk_ public key)';
    throw new WebhookVerificationError(
      'INVALID_HEADER',
      `webhook-signature holds no ${wanted.join(' or ')} signature${hint}`,
    );
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  for (const secret of secrets) {
    let ok = false;
    if (isPublicKey(secret)) {
      // A public-key check has nothing secret to leak through its timing.
      ok = v1a.some((s) => ed25519Verifies(secret, signed, s.value));
    } else {
      const expected = hmac(standardKey(secret), signed).digest('base64');
      // Every entry is compared, so the time taken does not depend on which one matched.
      for (const s of v1) ok = signaturesEqual(expected, s.value) || ok;
    }
    if (ok) return { payload: parseJson(body), signedAt: timestamp, messageId: id };
  }
  throw invalidSignature('webhook-signature');
};

/** `<header>` = HMAC-SHA256 of the exact body, keyed with the secret as is, in `encoding`. */
function bodyHmac(header: string, encoding: 'hex' | 'base64'): Scheme {
  return ({ secrets, body, headers }) => {
    const raw = requireHeader(headers, header);
    // Hex digits are case-insensitive; base64 is not.
    const received = encoding === 'hex' ? raw.toLowerCase() : raw;
    for (const secret of secrets) {
      if (signaturesEqual(hmac(keyBytes(secret), body).digest(encoding), received)) {
        return { payload: parseJson(body) };
      }
    }
    throw invalidSignature(header);
  };
}

/**
 * Courier Invoice: `X-CI-AUTH` = hex HMAC-SHA256 of `body . accountNumber . timestamp`, where the
 * timestamp is the body's own `timestamp` field, so the body is parsed before the proof is checked.
 */
const courierInvoice: Scheme = ({ secrets, body, headers, accountNumber }) => {
  if (accountNumber === undefined || accountNumber === '') {
    throw new WebhookVerificationError(
      'INVALID_OPTIONS',
      'courier-invoice needs accountNumber: it is part of the signed message',
    );
  }
  const received = requireHeader(headers, 'x-ci-auth').toLowerCase();
  const payload = parseJson(body);
  const timestamp = (payload as { timestamp?: unknown } | null)?.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new WebhookVerificationError('INVALID_BODY', 'The body has no integer "timestamp" field');
  }
  for (const secret of secrets) {
    const expected = hmac(keyBytes(secret), body, accountNumber, String(timestamp)).digest('hex');
    if (signaturesEqual(expected, received)) return { payload, signedAt: timestamp };
  }
  throw invalidSignature('X-CI-AUTH');
};

/** CorrigoPro: `Authorization: Bearer <token>`, the token being the secret. */
const corrigopro: Scheme = ({ secrets, body, headers }) => {
  const match = /^bearer\s+(\S+)$/i.exec(requireHeader(headers, 'authorization'));
  if (!match) throw new WebhookVerificationError('INVALID_HEADER', 'Authorization is not "Bearer <token>"');
  const token = match[1]!;
  let ok = false;
  for (const secret of secrets) ok = secretsEqual(keyBytes(secret).toString('utf8'), token) || ok;
  if (!ok)
    throw new WebhookVerificationError('INVALID_SIGNATURE', 'The bearer token is not the expected one');
  return { payload: parseJson(body) };
};

export const SCHEMES = {
  standard,
  'courier-invoice': courierInvoice,
  invoiceahoy: bodyHmac('x-ia-signature', 'hex'),
  shipstream: bodyHmac('x-plugin-hmac-sha256', 'base64'),
  corrigopro,
  altoviz: bodyHmac('x-signature', 'hex'),
} as const satisfies Record<string, Scheme>;

export type VerifyProfileName = keyof typeof SCHEMES;

export const VERIFY_PROFILES = Object.keys(SCHEMES) as VerifyProfileName[];

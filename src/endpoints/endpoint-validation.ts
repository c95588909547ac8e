/**
 * Turns an endpoint create or update, already shape-checked by its schema, into the values to
 * store — or refuses it with a 4xx naming the field. Nothing here writes; the store then checks the
 * rules that depend on the stored endpoint (src/endpoints/profile-rules.ts) in the same transaction
 * as its write.
 */
import type { Config } from '../config/config.ts';
import { HeraldError, invalid } from '../core/errors.ts';
import { isProfileName, type ProfileName } from '../profiles/profile-names.ts';
import { validateFilter } from '../rules/filter.ts';
import { resolveSecret, type SignatureScheme } from './endpoint-secret.ts';
import { checkUrlAllowed, parseEndpointUrl } from './endpoint-url.ts';
import { parseEventTypes } from './event-type-patterns.ts';
import { checkEndpointRules } from './profile-rules.ts';

/** Credentials an endpoint sends (stored sealed). */
export type EndpointAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

export type Ordering = 'none' | 'fifo';

/** An endpoint's settings, normalised, as they are stored. */
export interface EndpointFields {
  url: string;
  name: string | null;
  description: string | null;
  eventTypes: string[];
  active: boolean;
  headers: Record<string, string>;
  profile: ProfileName;
  profileOptions: Record<string, unknown>;
  auth: EndpointAuth | null;
  retrySchedule: number[] | null;
  timeouts: { connectMs: number; totalMs: number } | null;
  rateLimit: { perSecond: number } | null;
  ordering: Ordering;
  filter: Record<string, unknown> | null;
  ignoreOrigins: string[];
  metadata: Record<string, unknown>;
  /** Send each attempt's `traceparent` and `tracestate` (src/delivery/attempt-trace.ts). */
  forwardTraceparent: boolean;
}

export type EndpointPatch = Partial<EndpointFields>;

/** What a request may send (the schemas in src/api/schemas/endpoint.ts have checked the shapes). */
export interface EndpointInput {
  url?: string;
  secret?: string;
  signatureScheme?: SignatureScheme;
  name?: string | null;
  description?: string | null;
  eventTypes?: string | readonly string[] | null;
  active?: boolean;
  headers?: Record<string, string>;
  profile?: string;
  profileOptions?: Record<string, unknown>;
  auth?: EndpointAuth | null;
  retrySchedule?: readonly number[] | null;
  timeouts?: { connectMs: number; totalMs: number } | null;
  rateLimit?: { perSecond: number } | null;
  ordering?: Ordering;
  filter?: Record<string, unknown> | null;
  ignoreOrigins?: readonly string[];
  metadata?: Record<string, unknown>;
  forwardTraceparent?: boolean;
}

const DEFAULTS: Omit<EndpointFields, 'url'> = {
  name: null,
  description: null,
  eventTypes: ['*'],
  active: true,
  headers: {},
  profile: 'standard',
  profileOptions: {},
  auth: null,
  retrySchedule: null,
  timeouts: null,
  rateLimit: null,
  ordering: 'none',
  filter: null,
  ignoreOrigins: [],
  metadata: {},
  forwardTraceparent: false,
};

const PRINTABLE_NO_SPACE = /^[\u0021-\u007e]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

/** How deeply the free-form JSON an endpoint keeps (metadata, filter, profileOptions) may nest. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses JSON nested deeper than MAX_JSON_DEPTH. Iterative: a body of a million brackets must be
 * a 400, not a stack overflow in whatever serialises it next.
 */
function checkJsonDepth(value: unknown, path: string): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_JSON_DEPTH) throw invalid(path, `nests more than ${MAX_JSON_DEPTH} levels deep`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

function validateAuth(auth: EndpointAuth, outbound: Array<[URL, string]>): EndpointAuth {
  switch (auth.type) {
    case 'bearer':
      if (!PRINTABLE_NO_SPACE.test(auth.token)) {
        throw invalid('auth.token', 'must be printable ASCII without spaces (it is sent in a header)');
      }
      return { type: 'bearer', token: auth.token };
    case 'basic':
      if (!NO_CONTROL.test(auth.username) || auth.username.includes(':')) {
        throw invalid('auth.username', 'must not contain ":" or control characters');
      }
      if (!NO_CONTROL.test(auth.password))
        throw invalid('auth.password', 'must not contain control characters');
      return { type: 'basic', username: auth.username, password: auth.password };
    case 'oauth2': {
      const tokenUrl = parseEndpointUrl(auth.tokenUrl, 'auth.tokenUrl');
      outbound.push([tokenUrl, 'auth.tokenUrl']);
      if (!PRINTABLE_NO_SPACE.test(auth.clientId)) {
        throw invalid('auth.clientId', 'must be printable ASCII without spaces');
      }
      if (!NO_CONTROL.test(auth.clientSecret)) {
        throw invalid('auth.clientSecret', 'must not contain control characters');
      }
      if (auth.scope !== undefined && !/^[\u0020-\u007e]+$/.test(auth.scope)) {
        throw invalid('auth.scope', 'must be printable ASCII');
      }
      return {
        type: 'oauth2',
        tokenUrl: tokenUrl.href,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
      };
    }
  }
}

/**
 * The fields the input names, normalised; `outbound` collects the URLs Herald would send requests
 * to, for the address check once everything cheap has passed.
 */
function normaliseFields(input: EndpointInput, outbound: Array<[URL, string]>): EndpointPatch {
  const out: EndpointPatch = {};
  if (input.url !== undefined) {
    const url = parseEndpointUrl(input.url, 'url');
    outbound.push([url, 'url']);
    out.url = url.href;
  }
  if (input.name !== undefined) out.name = input.name;
  if (input.description !== undefined) out.description = input.description;
  if (input.eventTypes !== undefined) out.eventTypes = parseEventTypes(input.eventTypes);
  if (input.active !== undefined) out.active = input.active;
  if (input.headers !== undefined) out.headers = { ...input.headers };
  if (input.profile !== undefined) {
    if (!isProfileName(input.profile)) {
      throw new HeraldError('UNKNOWN_PROFILE', `profile: no profile is called "${input.profile}"`, [
        { path: 'profile', message: `is not one of the known profiles` },
      ]);
    }
    out.profile = input.profile;
  }
  if (input.profileOptions !== undefined) {
    checkJsonDepth(input.profileOptions, 'profileOptions');
    out.profileOptions = { ...input.profileOptions };
  }
  if (input.auth !== undefined) out.auth = input.auth === null ? null : validateAuth(input.auth, outbound);
  if (input.retrySchedule !== undefined) out.retrySchedule = input.retrySchedule && [...input.retrySchedule];
  if (input.timeouts !== undefined) {
    const t = input.timeouts;
    if (t && t.connectMs > t.totalMs) throw invalid('timeouts.connectMs', 'must not be more than totalMs');
    out.timeouts = t && { connectMs: t.connectMs, totalMs: t.totalMs };
  }
  if (input.rateLimit !== undefined)
    out.rateLimit = input.rateLimit && { perSecond: input.rateLimit.perSecond };
  if (input.ordering !== undefined) out.ordering = input.ordering;
  if (input.filter !== undefined) {
    if (input.filter !== null) {
      checkJsonDepth(input.filter, 'filter');
      validateFilter(input.filter);
    }
    out.filter = input.filter;
  }
  if (input.ignoreOrigins !== undefined) out.ignoreOrigins = [...new Set(input.ignoreOrigins)];
  if (input.metadata !== undefined) {
    checkJsonDepth(input.metadata, 'metadata');
    out.metadata = input.metadata;
  }
  if (input.forwardTraceparent !== undefined) out.forwardTraceparent = input.forwardTraceparent;
  return out;
}

async function checkOutbound(outbound: Array<[URL, string]>, config: Config): Promise<void> {
  for (const [url, path] of outbound) await checkUrlAllowed(url, config, path);
}

/**
 * Validates a new endpoint: its fields with defaults filled in, and its secret (the given one, or
 * one generated for `signatureScheme`: a `whsec_` secret, or a `whsk_` Ed25519 key).
 *
 * @example const { fields, secret } = await validateNewEndpoint({ url: 'https://example.com/hook' }, config)
 */
export async function validateNewEndpoint(
  input: EndpointInput & { url: string },
  config: Config,
): Promise<{ fields: EndpointFields; secret: string }> {
  const outbound: Array<[URL, string]> = [];
  const fields: EndpointFields = { ...DEFAULTS, ...normaliseFields(input, outbound) } as EndpointFields;
  const secret = resolveSecret(input, fields.profile);
  checkEndpointRules({ ...fields, authType: fields.auth?.type ?? null });
  await checkOutbound(outbound, config);
  return { fields, secret };
}

/**
 * Validates an update on its own; what depends on the stored endpoint is checked by the store.
 *
 * @example await validateEndpointPatch({ active: true }, config) // { active: true }
 */
export async function validateEndpointPatch(input: EndpointInput, config: Config): Promise<EndpointPatch> {
  for (const field of ['secret', 'signatureScheme'] as const) {
    if (input[field] !== undefined) {
      throw invalid(field, 'is changed with POST …/rotate-secret, which keeps the old key valid for a while');
    }
  }
  const outbound: Array<[URL, string]> = [];
  const patch = normaliseFields(input, outbound);
  await checkOutbound(outbound, config);
  return patch;
}

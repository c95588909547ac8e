/**
 * One claimed delivery, from claim to outcome: rate limit, render through the endpoint's profile,
 * add the endpoint's headers and auth, send, and decide what happens next. It touches no database:
 * the dispatcher batches the outcomes it returns.
 *
 * The outcome is either an attempt (recorded, moves the delivery on) or a release (no request was
 * made, or it was abandoned on drain: the claim is undone and the delivery falls due again).
 *
 * An attempt has one deadline: its budget (src/rules/attempt-budget.ts), counted from its
 * start. An OAuth 2 token fetch runs inside it and the request gets what is left, so the attempt
 * never outlives the lease its claim was given for that budget.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { EndpointSecrets, Profile } from '../profiles/profile.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import type { AttemptRecord } from '../queue/record-outcomes.ts';
import type { Release } from '../queue/release-deliveries.ts';
import { attemptBudgetMs } from '../rules/attempt-budget.ts';
import { nextStepLabel } from '../rules/delivery-status.ts';
import { nextStep } from '../rules/retry-policy.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { activeTracing } from '../tracing/tracing.ts';
import { addTraceHeaders, endAttemptSpan, startAttemptSpan } from './attempt-trace.ts';
import { createOAuthTokens, type OAuthClientCredentials, OAuthTokenError } from './oauth-tokens.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { type Cancellation, cleanText, type SendResult } from './sender.ts';
import type { SendRequest } from './sender-thread.ts';

/**
 * How a claim ends (docs/design.md, glossary): an attempt to record — its outcome and next step —
 * or a release, the delivery given back unsent (a rate limit, an open circuit, a stale claim).
 */
/** Giving `d` back, due again in `delayMs`, without an attempt. */
export function releaseOf(d: ClaimedDelivery, delayMs: number): Settlement {
  return {
    kind: 'release',
    release: {
      tenantId: d.tenantId,
      deliveryId: d.id,
      attemptNumber: d.attemptNumber,
      delayMs,
      handoff: d.handoff,
    },
  };
}

export type Settlement =
  | { kind: 'attempt'; record: AttemptRecord; fifo: boolean }
  | { kind: 'release'; release: Release };

export interface DeliverContext {
  secretBox: SecretBox;
  clock: Clock;
  random: () => number;
  limiter: RateLimiter;
  profiles: ReadonlyMap<string, Profile>;
  /** The undici dispatcher for an endpoint's connect timeout (null = the default). */
  dispatcherFor(connectTimeoutMs: number | null): UndiciDispatcher;
  /** Makes a webhook request: in place through `dispatcherFor`, or on the sender thread (sender-thread.ts). */
  send(request: SendRequest): Promise<SendResult>;
  defaultRetrySchedule: readonly number[];
  defaultTotalTimeoutMs: number;
  maxExcerptBytes: number;
  userAgent: string;
}

/** A send result, or a failure found before sending (its kind is then one of LocalFailure's). */
type AttemptResult = Omit<SendResult, 'errorKind'> & { errorKind?: string; retryAfter?: string | undefined };

type EndpointAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | OAuthClientCredentials;

/** Failures found before any request is made: recorded like any failed attempt. */
class LocalFailure extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

// Decrypting is cheap but not free, and a batch often holds many deliveries of one endpoint. The
// sealed value includes a random IV, so it names one stored secret exactly.
const openedSecrets = new Map<string, string>();
function open(box: SecretBox, sealed: string): string {
  let plain = openedSecrets.get(sealed);
  if (plain === undefined) {
    plain = box.open(sealed);
    if (openedSecrets.size >= 10_000) openedSecrets.clear();
    openedSecrets.set(sealed, plain);
  }
  return plain;
}

function secretsOf(d: ClaimedDelivery, ctx: DeliverContext, now: Date): EndpointSecrets {
  const e = d.endpoint;
  const previousLive = e.previousSecretEnc && e.previousSecretUntil && e.previousSecretUntil > now;
  return {
    current: open(ctx.secretBox, e.secretEnc),
    ...(previousLive ? { previous: open(ctx.secretBox, e.previousSecretEnc!) } : {}),
  };
}

// OAuth 2 tokens, per process: keyed by endpoint and sealed credentials, so new credentials never
// reuse an old token.
const oauthTokens = createOAuthTokens();

interface Timeouts {
  /** The attempt's budget: token fetch and request together. */
  totalMs: number;
  connectMs: number | null;
}

/** Whole milliseconds left before `deadline` (a performance.now() time); ≤ 0 once it has passed. */
function leftUntil(deadline: number): number {
  return Math.round(deadline - performance.now());
}

/**
 * The auth header, and the OAuth token it carries (to drop it if the receiver refuses it). A token
 * fetch gets what is left of the attempt's budget, until `deadline`.
 */
async function authHeader(
  d: ClaimedDelivery,
  ctx: DeliverContext,
  timeouts: Timeouts,
  deadline: number,
): Promise<{ headers: Record<string, string>; oauthToken?: { key: string; token: string } }> {
  if (!d.endpoint.authEnc) return { headers: {} };
  const auth = JSON.parse(open(ctx.secretBox, d.endpoint.authEnc)) as EndpointAuth;
  if (auth.type === 'bearer') return { headers: { authorization: `Bearer ${auth.token}` } };
  if (auth.type === 'basic') {
    const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    return { headers: { authorization: `Basic ${basic}` } };
  }
  if (auth.type === 'oauth2') {
    const key = `${d.endpointId}:${d.endpoint.authEnc}`;
    const left = leftUntil(deadline);
    if (left < 1) throw new LocalFailure('timeout', `no time left of the ${timeouts.totalMs} ms budget`);
    try {
      const token = await oauthTokens.get({
        key,
        credentials: auth,
        dispatcher: ctx.dispatcherFor(timeouts.connectMs),
        timeoutMs: left,
        nowMs: ctx.clock.now().getTime(),
        userAgent: ctx.userAgent,
      });
      return { headers: { authorization: `Bearer ${token}` }, oauthToken: { key, token } };
    } catch (err) {
      if (err instanceof OAuthTokenError) throw new LocalFailure('oauth_token_error', err.message);
      throw err;
    }
  }
  const unknown: { type: string } = auth;
  throw new LocalFailure('auth_unsupported', `endpoint auth type "${unknown.type}" is not supported`);
}

interface BuiltRequest {
  profile: Profile;
  body: string | Buffer;
  headers: Record<string, string>;
  timeouts: Timeouts;
  oauthToken?: { key: string; token: string } | undefined;
}

/**
 * The request: endpoint headers first, so the profile's and the auth header always win. Synchronous
 * (this runs for every attempt); only OAuth 2 needs a wait, done by {@link addAuth}.
 */
function buildRequest(d: ClaimedDelivery, ctx: DeliverContext, now: Date): BuiltRequest {
  const purged = d.events.find((e) => e.purged);
  if (purged) throw new LocalFailure('payload_purged', `the payload of event ${purged.id} was purged`);
  const profile = ctx.profiles.get(d.endpoint.profile);
  if (!profile) {
    throw new LocalFailure('profile_unsupported', `profile "${d.endpoint.profile}" is not available`);
  }
  let rendered: ReturnType<Profile['render']>;
  try {
    rendered = profile.render({
      endpoint: { id: d.endpointId, options: d.endpoint.profileOptions, secrets: secretsOf(d, ctx, now) },
      sequence: d.sequence,
      attempt: d.attemptNumber,
      events: d.events,
      clock: ctx.clock,
    });
  } catch (err) {
    throw new LocalFailure('render_error', err instanceof Error ? err.message : String(err));
  }
  const timeouts: Timeouts = {
    totalMs: attemptBudgetMs(d.endpoint.totalTimeoutMs, profile.timeouts?.totalMs, ctx.defaultTotalTimeoutMs),
    connectMs: d.endpoint.connectTimeoutMs ?? profile.timeouts?.connectMs ?? null,
  };
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent };
  const own = d.endpoint.headers;
  for (const name in own) headers[name.toLowerCase()] = String(own[name]);
  Object.assign(headers, rendered.headers);
  return { profile, body: rendered.body, headers, timeouts };
}

/** Adds the endpoint's auth header (last, so it wins), fetching an OAuth 2 token if need be. */
async function addAuth(
  req: BuiltRequest,
  d: ClaimedDelivery,
  ctx: DeliverContext,
  deadline: number,
): Promise<void> {
  const auth = await authHeader(d, ctx, req.timeouts, deadline);
  Object.assign(req.headers, auth.headers);
  req.oauthToken = auth.oauthToken;
}

/** The headers kept with the attempt: what was sent, minus credentials. */
function loggedHeaders(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if (out['authorization']) out['authorization'] = '[redacted]';
  return out;
}

/**
 * Sends one claimed delivery and answers its outcome; never throws.
 *
 * @example const outcome = await deliverOne(claimed, ctx, newCancellation())
 */
export async function deliverOne(
  d: ClaimedDelivery,
  ctx: DeliverContext,
  /** This delivery's own: cancelling it abandons the request (drain). */
  cancellation: Cancellation,
): Promise<Settlement> {
  // The injected clock for what is recorded; performance.now() for the time the attempt takes.
  const startedAt = ctx.clock.now();
  const began = performance.now();
  const nowMs = startedAt.getTime();
  const release = (delayMs: number): Settlement => releaseOf(d, delayMs);

  if (d.endpoint.rateLimitPerSecond) {
    const wait = ctx.limiter.take(d.endpointId, d.endpoint.rateLimitPerSecond, nowMs);
    if (wait > 0) return release(wait);
  }

  // One span per attempt when tracing is on; off, this is the only cost (src/tracing/tracing.ts).
  const tracing = activeTracing();
  const span = tracing === null ? null : startAttemptSpan(tracing, d);
  let result: AttemptResult;
  let sentNothing = false;
  let profile: Profile | undefined;
  let requestHeaders: Record<string, string> | null = null;
  try {
    // Known before the request is built, so a failure building it still retries on its schedule.
    profile = ctx.profiles.get(d.endpoint.profile);
    const req = buildRequest(d, ctx, startedAt);
    if (d.endpoint.forwardTraceparent) addTraceHeaders(req.headers, d, span);
    const deadline = began + req.timeouts.totalMs;
    if (d.endpoint.authEnc) await addAuth(req, d, ctx, deadline);
    // One deadline: the request gets what the token fetch (if any) left of the budget.
    const left = leftUntil(deadline);
    if (left < 1) throw new LocalFailure('timeout', `no time left of the ${req.timeouts.totalMs} ms budget`);
    requestHeaders = loggedHeaders(req.headers);
    const spentMs = req.timeouts.totalMs - left;
    const sent = await ctx.send({
      url: d.endpoint.url,
      headers: req.headers,
      body: req.body,
      connectTimeoutMs: req.timeouts.connectMs,
      totalTimeoutMs: left,
      maxExcerptBytes: ctx.maxExcerptBytes,
      cancellation,
    });
    // The attempt's duration: the request's, plus the time spent before it (a token fetch).
    if (spentMs > 0) sent.durationMs += spentMs;
    // A refused OAuth token (expired early, revoked): the next attempt fetches a new one.
    if (sent.statusCode === 401 && req.oauthToken)
      oauthTokens.invalidate(req.oauthToken.key, req.oauthToken.token);
    // Abandoned on drain: the receiver may or may not have it; the next worker sends it again.
    if (sent.errorKind === 'aborted') {
      if (span) endAttemptSpan(tracing!, span, sent, 'released');
      return release(0);
    }
    result = { ...sent, retryAfter: sent.responseHeaders['retry-after'] };
  } catch (err) {
    const local = err instanceof LocalFailure ? err : new LocalFailure('internal_error', String(err));
    sentNothing = true;
    result = {
      errorKind: local.kind,
      errorMessage: cleanText(local.message),
      durationMs: Math.round(performance.now() - began),
      excerpt: '',
      responseHeaders: {},
    };
  }

  const schedule = d.endpoint.retrySchedule ?? profile?.retrySchedule ?? ctx.defaultRetrySchedule;
  // A purged payload will never be sendable again: no point retrying.
  const step =
    result.errorKind === 'payload_purged'
      ? ({ status: 'failed' } as const)
      : nextStep(result, d.attemptNumber, schedule, ctx.clock.now().getTime(), ctx.random);
  if (span) endAttemptSpan(tracing!, span, result, nextStepLabel(step.status));
  return {
    kind: 'attempt',
    fifo: d.fifo,
    record: {
      attemptId: newId('atm', nowMs),
      deliveryId: d.id,
      tenantId: d.tenantId,
      endpointId: d.endpointId,
      attemptNumber: d.attemptNumber,
      status: step.status,
      retryInMs: step.status === 'pending' ? step.retryInMs : null,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode ?? null,
      errorKind: result.errorKind ?? null,
      errorMessage: result.errorMessage ?? null,
      requestHeaders,
      responseHeaders: result.statusCode === undefined ? null : result.responseHeaders,
      responseExcerpt: result.statusCode === undefined ? null : result.excerpt,
      endpointGone: result.statusCode === 410,
      ...(sentNothing ? { sentNothing } : {}),
      handoff: d.handoff,
    },
  };
}

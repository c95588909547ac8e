/**
 * One claimed delivery, from claim to outcome: rate limit, render through the endpoint's profile,
 * add the endpoint's headers and auth, send, and decide what happens next. It touches no database:
 * the dispatcher batches the outcomes it returns.
 *
 * The outcome is either an attempt (recorded, moves the delivery on) or a release (no request was
 * made, or it was abandoned on drain: the claim is undone and the delivery falls due again).
 */
import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { Clock } from '../api/context.ts';
import { newId } from '../ids.ts';
import type { EndpointSecrets, Profile } from '../profiles/profile.ts';
import type { ClaimedDelivery } from '../queue/claim-deliveries.ts';
import type { AttemptRecord } from '../queue/record-outcomes.ts';
import type { Release } from '../queue/release-deliveries.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { nextStep } from './retry-policy.ts';
import { cleanText, type SendResult, send } from './sender.ts';

export type Outcome =
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
  | { type: 'oauth2' };

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

function authHeader(d: ClaimedDelivery, ctx: DeliverContext): Record<string, string> {
  if (!d.endpoint.authEnc) return {};
  const auth = JSON.parse(open(ctx.secretBox, d.endpoint.authEnc)) as EndpointAuth;
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}` };
  if (auth.type === 'basic') {
    return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  }
  throw new LocalFailure('auth_unsupported', `endpoint auth type "${auth.type}" is not supported yet`);
}

/** The request: endpoint headers first, so the profile's and the auth header always win. */
function buildRequest(d: ClaimedDelivery, ctx: DeliverContext, now: Date) {
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
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent };
  for (const [name, value] of Object.entries(d.endpoint.headers)) headers[name.toLowerCase()] = String(value);
  Object.assign(headers, rendered.headers, authHeader(d, ctx));
  return { profile, body: rendered.body, headers };
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
 * @example const outcome = await deliverOne(claimed, ctx, abortController.signal)
 */
export async function deliverOne(
  d: ClaimedDelivery,
  ctx: DeliverContext,
  signal: AbortSignal,
): Promise<Outcome> {
  const startedAt = ctx.clock.now();
  const nowMs = startedAt.getTime();
  const release = (delayMs: number): Outcome => ({
    kind: 'release',
    release: { deliveryId: d.id, attemptNumber: d.attemptNumber, delayMs },
  });

  if (d.endpoint.rateLimitPerSecond) {
    const wait = ctx.limiter.take(d.endpointId, d.endpoint.rateLimitPerSecond, nowMs);
    if (wait > 0) return release(wait);
  }

  let result: AttemptResult;
  let profile: Profile | undefined;
  let requestHeaders: Record<string, string> | null = null;
  try {
    const req = buildRequest(d, ctx, startedAt);
    profile = req.profile;
    requestHeaders = loggedHeaders(req.headers);
    const totalTimeoutMs =
      d.endpoint.totalTimeoutMs ?? profile.timeouts?.totalMs ?? ctx.defaultTotalTimeoutMs;
    const connectTimeoutMs = d.endpoint.connectTimeoutMs ?? profile.timeouts?.connectMs ?? null;
    const sent = await send({
      url: d.endpoint.url,
      headers: req.headers,
      body: req.body,
      dispatcher: ctx.dispatcherFor(connectTimeoutMs),
      totalTimeoutMs,
      maxExcerptBytes: ctx.maxExcerptBytes,
      signal,
    });
    // Abandoned on drain: the receiver may or may not have it; the next worker sends it again.
    if (sent.errorKind === 'aborted') return release(0);
    result = { ...sent, retryAfter: sent.responseHeaders['retry-after'] };
  } catch (err) {
    const local = err instanceof LocalFailure ? err : new LocalFailure('internal_error', String(err));
    result = {
      errorKind: local.kind,
      errorMessage: cleanText(local.message),
      durationMs: 0,
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
    },
  };
}

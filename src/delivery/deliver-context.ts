/**
 * What every attempt of a dispatcher shares (deliver-one.ts): secrets, clock, rate limiter,
 * profiles, defaults, and the HTTP agents — the caller's, plus one per distinct endpoint connect
 * timeout (undici sets connect timeouts per agent), which are the dispatcher's own to close.
 */
import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import { ALL_PROFILES } from '../profiles/index.ts';
import type { DeliverContext } from './deliver-one.ts';
import type { DispatcherConfig, DispatcherOptions } from './dispatcher-options.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { send } from './sender.ts';

export interface OwnedDeliverContext {
  ctx: DeliverContext;
  /** Closes the per-connect-timeout agents; `options.agent` belongs to the caller. */
  closeAgents(): Promise<void>;
}

/** @example const { ctx, closeAgents } = createDeliverContext(options, cfg, clock) */
export function createDeliverContext(
  options: DispatcherOptions,
  cfg: DispatcherConfig,
  clock: Clock,
): OwnedDeliverContext {
  const agents = new Map<number, UndiciDispatcher>();
  const dispatcherFor = (connectTimeoutMs: number | null): UndiciDispatcher => {
    if (connectTimeoutMs === null || !options.agentForConnectTimeout) return options.agent;
    let agent = agents.get(connectTimeoutMs);
    if (!agent) {
      agent = options.agentForConnectTimeout(connectTimeoutMs);
      agents.set(connectTimeoutMs, agent);
    }
    return agent;
  };
  const thread = options.sender;
  const ctx: DeliverContext = {
    secretBox: options.secretBox,
    clock,
    random: options.random ?? Math.random,
    limiter: createRateLimiter(),
    profiles: new Map((options.profiles ?? ALL_PROFILES).map((p) => [p.name, p])),
    dispatcherFor,
    send: thread
      ? (r) => thread.send(r)
      : ({ connectTimeoutMs, ...r }) => send({ ...r, dispatcher: dispatcherFor(connectTimeoutMs) }),
    defaultRetrySchedule: cfg.defaultRetrySchedule,
    defaultTotalTimeoutMs: cfg.defaultTotalTimeoutMs,
    maxExcerptBytes: cfg.maxExcerptBytes,
    userAgent: 'Herald-Webhooks/1.0',
  };
  return {
    ctx,
    async closeAgents() {
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => {})));
    },
  };
}

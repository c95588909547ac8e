/**
 * The dispatcher's one timer: when to claim again without being woken (the poll interval, a retry
 * this process scheduled falling due, the back-off after a failed claim). Arming it for later than
 * it is already set changes nothing, so the soonest reason wins.
 */
export interface WakeTimer {
  /** Fires `wake` in `delayMs`, unless already due to fire sooner. */
  arm(delayMs: number): void;
  clear(): void;
}

/** @example const timer = createWakeTimer(() => wake()); timer.arm(1_000) */
export function createWakeTimer(wake: () => void): WakeTimer {
  let timer: NodeJS.Timeout | undefined;
  let at = Number.POSITIVE_INFINITY;
  const clear = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    at = Number.POSITIVE_INFINITY;
  };
  return {
    arm(delayMs) {
      const when = Date.now() + delayMs;
      if (timer && at <= when) return;
      clear();
      at = when;
      timer = setTimeout(() => {
        timer = undefined;
        at = Number.POSITIVE_INFINITY;
        wake();
      }, delayMs);
    },
    clear,
  };
}

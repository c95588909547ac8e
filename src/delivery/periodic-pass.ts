/**
 * A pass run on a timer — now at start, then `everyMs` after each pass ends — by the background
 * jobs of a process with a dispatcher (maintenance.ts, operational-pump.ts). Never two passes at
 * once: `runOnce` while one is under way joins it. `stop` ends the timer and waits for the pass under
 * way, which should check `isStopped` at its own safe points and return early.
 */
export interface PeriodicPass<T> {
  start(): void;
  /** Stops the timer and waits for a pass under way (its failure is not rethrown here). */
  stop(): Promise<void>;
  /** One pass now, or the one under way. */
  runOnce(): Promise<T>;
  isStopped(): boolean;
}

/** @example const loop = periodicPass(() => purge(), 60_000, (err) => log.warn({ err }, 'pass failed')) */
export function periodicPass<T>(
  pass: () => Promise<T>,
  everyMs: number,
  onError: (err: unknown) => void,
): PeriodicPass<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<T> | undefined;
  let stopped = false;

  function runOnce(): Promise<T> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    start() {
      if (timer || stopped) return;
      const tick = () => {
        runOnce()
          .catch(onError)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, everyMs);
          });
      };
      timer = setTimeout(tick, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
    runOnce,
    isStopped: () => stopped,
  };
}

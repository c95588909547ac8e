/**
 * The one polling helper of the tests: wait on a condition, never on a fixed sleep.
 */

export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Polls `check` until it returns something truthy and answers it; fails after `timeoutMs` naming
 * `what` (and `detail()`, to say how far it got).
 *
 * @example await waitFor('every event delivered', () => receiver.missing(ids).length === 0, { timeoutMs: 60_000 })
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  {
    timeoutMs = 10_000,
    intervalMs = 10,
    detail,
  }: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The clock, injected wherever time decides something (due-ness, leases, signatures' timestamps,
 * portal tokens), so tests set time instead of waiting for it.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

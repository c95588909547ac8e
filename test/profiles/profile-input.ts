/** Render inputs for profile tests: a fixed time, endpoint and events unless told otherwise. */
import type { ProfileEvent, RenderInput } from '../../src/profiles/profile.ts';

export const FIXED_NOW = new Date('2030-01-02T03:04:05.678Z');
/** FIXED_NOW in unix seconds. */
export const FIXED_UNIX = 1893553445;

export function event(id: string, type: string, data: unknown, occurredAt: Date | null = null): ProfileEvent {
  return { id, type, data, occurredAt, createdAt: new Date('2030-01-02T03:04:00.123Z') };
}

export function renderInput(o: {
  secret: string;
  events: ProfileEvent[];
  endpointId?: string;
  options?: Record<string, unknown>;
  sequence?: number;
  now?: Date;
  previous?: string;
}): RenderInput {
  const now = o.now ?? FIXED_NOW;
  return {
    endpoint: {
      id: o.endpointId ?? 'ep_1',
      options: o.options ?? {},
      secrets: { current: o.secret, ...(o.previous ? { previous: o.previous } : {}) },
    },
    sequence: o.sequence ?? 7,
    attempt: 1,
    events: o.events,
    clock: { now: () => now },
  };
}

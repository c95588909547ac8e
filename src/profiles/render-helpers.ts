/**
 * Small pieces the profiles share: HMAC-SHA256 in the encodings the products document, the one
 * event of a single-event delivery, and the unix-seconds time a profile stamps.
 */
import { createHmac } from 'node:crypto';
import type { ProfileEvent, RenderInput } from './profile.ts';

/** HMAC-SHA256 of `parts`, in order, keyed with the secret's own bytes (as PHP's `hash_hmac`). */
export function hmacSha256(secret: string, parts: ReadonlyArray<string | Buffer>): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** The event of a delivery that must hold exactly one (every profile but Courier Invoice's). */
export function onlyEvent(input: RenderInput, profile: string): ProfileEvent {
  const event = input.events[0];
  if (!event || input.events.length !== 1) {
    throw new Error(`the ${profile} profile sends one event per request, got ${input.events.length}`);
  }
  return event;
}

/** @example unixSeconds(clock) // 1893456000 */
export function unixSeconds(clock: RenderInput['clock']): number {
  return Math.floor(clock.now().getTime() / 1000);
}

/** Event data as an object whose fields a profile can spread (publishing guarantees an object). */
export function dataFields(event: ProfileEvent): Record<string, unknown> {
  const d = event.data;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    throw new Error(`event ${event.id}: data must be a JSON object to spread its fields`);
  }
  return d as Record<string, unknown>;
}

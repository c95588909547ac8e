/** Comparisons that take the same time whatever the position of the first differing byte. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether two ASCII signatures are equal; different lengths are unequal without comparing. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether two secrets (bearer tokens) are equal. Both are hashed first, so the comparison runs on
 * equal-length buffers and does not reveal the expected token's length either.
 */
export function secretsEqual(expected: string, received: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(received, 'utf8').digest();
  return timingSafeEqual(a, b);
}

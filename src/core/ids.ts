/**
 * Identifiers: a short type prefix and a ULID-like body (48-bit millisecond time + 80 random bits,
 * Crockford base32), so ids sort by creation time and cursor pagination is an index range scan.
 *
 * @example newId('ep') // 'ep_01JD6S5K9Q4ZB8X7M3N2P1R0TV'
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

export type IdPrefix = 'ten' | 'key' | 'ep' | 'msg' | 'dlv' | 'atm' | 'bat' | 'hof';

// Random bytes are drawn in blocks: one syscall serves many ids on the publish hot path.
let pool = Buffer.alloc(0);
let poolOffset = 0;

// Each id's character codes, prefix and '_' already in place: a publish makes several ids per
// delivery, and building them by string concatenation allocated ~700 bytes of intermediate
// strings each (docs/performance.md); this allocates the id alone.
const scratch = new Map<string, number[]>();

/**
 * The id of `prefix`, time `now` (ms) and the 10 random bytes of `bytes` from `offset`: the time
 * as 10 base32 characters, most significant first, then the 80 bits as 16, 5 bits at a time.
 */
export function encodeId(prefix: string, now: number, bytes: Uint8Array, offset: number): string {
  let chars = scratch.get(prefix);
  if (!chars) {
    chars = [...Array.from(prefix, (c) => c.charCodeAt(0)), 95 /* _ */, ...new Array<number>(26).fill(0)];
    scratch.set(prefix, chars);
  }
  const start = prefix.length + 1;
  let t = now;
  for (let i = 9; i >= 0; i--) {
    chars[start + i] = CODES[t % 32]!;
    t = Math.floor(t / 32);
  }
  let at = start + 10;
  let acc = 0;
  let bits = 0;
  for (let i = offset; i < offset + 10; i++) {
    acc = (acc << 8) | bytes[i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      chars[at++] = CODES[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  return String.fromCharCode.apply(null, chars);
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const id = encodeId(prefix, now, pool, poolOffset);
  poolOffset += 10;
  return id;
}

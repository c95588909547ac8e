/**
 * Identifiers: a short type prefix and a ULID-like body (48-bit millisecond time + 80 random bits,
 * Crockford base32), so ids sort by creation time and cursor pagination is an index range scan.
 *
 * @example newId('ep') // 'ep_01JD6S5K9Q4ZB8X7M3N2P1R0TV'
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'ten' | 'key' | 'ep' | 'msg' | 'dlv' | 'atm' | 'bat' | 'hof';

// Random bytes are drawn in blocks: one syscall serves many ids on the publish hot path.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function random10(): Buffer {
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return out;
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = random10();
  let body = '';
  // 80 bits → 16 base32 characters, 5 bits at a time.
  let acc = 0;
  let bits = 0;
  for (const byte of rnd) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      body += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${body}`;
}

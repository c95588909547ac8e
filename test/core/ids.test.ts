/** Ids (src/core/ids.ts): prefix, time and randomness, Crockford base32, sortable by time. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encodeId, newId } from '../../src/core/ids.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The plain reading of the format: the time's 10 characters, then the 80 bits 5 at a time. */
function reference(prefix: string, now: number, bytes: Uint8Array): string {
  let time = '';
  for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let body = '';
  for (let i = 0; i < 80; i += 5) body += ALPHABET[Number.parseInt(bits.slice(i, i + 5), 2)];
  return `${prefix}_${time}${body}`;
}

test('encodeId writes the format: prefix, 10 time characters, 16 of randomness', () => {
  for (let i = 0; i < 2_000; i++) {
    const prefix = ['ep', 'msg', 'dlv', 'atm', 'ten'][i % 5]!;
    const now = Math.floor(Math.random() * 2 ** 48);
    const bytes = randomBytes(13);
    const offset = i % 4;
    assert.equal(
      encodeId(prefix, now, bytes, offset),
      reference(prefix, now, bytes.subarray(offset, offset + 10)),
    );
  }
});

test('newId: a fresh, well-formed id each time, ordered by its time', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const id = newId('dlv');
    assert.match(id, /^dlv_[0-9A-HJKMNP-TV-Z]{26}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 1_000);
  assert.ok(newId('msg', 1_000) < newId('msg', 1_001));
  assert.equal(newId('ep', 0).slice(0, 13), 'ep_0000000000');
});

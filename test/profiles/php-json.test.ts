/**
 * The PHP `json_encode` encoder: fixed expectations for each rule, then PHP itself as the judge —
 * for every value, `json_encode(json_decode($ours, true))` must give back our bytes, and must equal
 * what PHP makes of the same value sent as plain JSON.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PhpJsonError, phpJsonEncode, phpNumber, phpString } from '../../src/profiles/php-json.ts';
import { runPhp } from './php/php.ts';

test('strings: \\/, short escapes, \\u00XX controls, lower-case \\uXXXX, surrogate pairs, DEL kept', () => {
  assert.equal(phpString('a/b'), '"a\\/b"');
  assert.equal(phpString('"\\'), '"\\"\\\\"');
  assert.equal(phpString('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"');
  assert.equal(phpString('\u0000\u001f'), '"\\u0000\\u001f"');
  assert.equal(phpString('\u007f'), '"\u007f"');
  assert.equal(phpString('é'), '"\\u00e9"');
  assert.equal(phpString('€\u2028'), '"\\u20ac\\u2028"');
  assert.equal(phpString('😀'), '"\\ud83d\\ude00"');
  assert.equal(phpString("<>&'"), `"<>&'"`);
  assert.throws(() => phpString('\ud800x'), PhpJsonError);
  assert.throws(() => phpString('x\udc00'), PhpJsonError);
});

test('numbers: PHP ints in the int64 range, PHP float form otherwise', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-7, '-7'],
    [2 ** 53, '9007199254740992'],
    [2 ** 60, '1152921504606846976'],
    [-(2 ** 63), '-9223372036854775808'],
    [2 ** 63, '9.223372036854776e+18'],
    [1e21, '1.0e+21'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [0.30000000000000004, '0.30000000000000004'],
    [123456.789, '123456.789'],
    [0.0001, '0.0001'],
    [0.00012, '0.00012'],
    [1e-5, '1.0e-5'],
    [-1.5e-7, '-1.5e-7'],
    [5e-324, '5.0e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [1.2345678901234568e20, '1.2345678901234568e+20'],
  ];
  for (const [n, want] of cases) assert.equal(phpNumber(n), want, String(n));
  assert.throws(() => phpNumber(Number.NaN), PhpJsonError);
  assert.throws(() => phpNumber(Number.POSITIVE_INFINITY), PhpJsonError);
});

test('objects: PHP lists become arrays ({} → []), other keys stay, Maps keep insertion order', () => {
  assert.equal(phpJsonEncode({}), '[]');
  assert.equal(phpJsonEncode({ a: {} }), '{"a":[]}');
  assert.equal(phpJsonEncode({ 0: 'a', 1: 'b' }), '["a","b"]');
  assert.equal(phpJsonEncode({ 1: 'a' }), '{"1":"a"}');
  assert.equal(phpJsonEncode({ '-0': 1, '05': 2, '': 3 }), '{"-0":1,"05":2,"":3}');
  assert.equal(phpJsonEncode([1, [2, {}], null, true, false]), '[1,[2,[]],null,true,false]');
  assert.equal(
    phpJsonEncode(
      new Map<string, unknown>([
        ['type', 't'],
        ['0', 'x'],
      ]),
    ),
    '{"type":"t","0":"x"}',
  );
  assert.equal(phpJsonEncode({ 'a/b': 'c/d' }), '{"a\\/b":"c\\/d"}');
  assert.throws(() => phpJsonEncode({ f: () => 1 }), PhpJsonError);
});

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// A JSON value as it arrives through Herald's API: only what JSON.parse can give.
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0.1, 1e21, 2 ** 63, -(2 ** 63), 1e-7, 123.456, 1e16, 1e17),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }).filter((s) => !LONE_SURROGATE.test(s)),
    fc.constantFrom('/', 'é', 'https://x.test/a?b=é', '\u2028', '\u007f', '😀'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('0', '1', '2', '-1', '05')), tie('value'), {
      maxKeys: 4,
    }),
  ),
})).value;

/** JavaScript writes integers past 2^53 as rounded digits (2^63 → "9223372036854776000"), which PHP reads otherwise. */
function hasHugeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 2 ** 53;
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasHugeInteger);
  return false;
}

test('PHP agrees: re-encoding our output gives the same bytes, and equals PHP on the plain JSON', async () => {
  const values = fc.sample(jsonValue, { numRuns: 400, seed: 4242 });
  const ours = values.map((v) => phpJsonEncode(v));
  const plain = values.map((v) => JSON.stringify(v));
  const php = (await runPhp('roundtrip.php', [], [...ours, ...plain].join('\n') + '\n')).split('\n');
  for (let i = 0; i < values.length; i++) {
    assert.equal(php[i], ours[i], `PHP re-encodes ${ours[i]} differently`);
    if (!hasHugeInteger(values[i])) {
      assert.equal(php[values.length + i], ours[i], `PHP encodes ${plain[i]} differently`);
    }
  }
});

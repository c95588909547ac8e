/**
 * JSON encoded exactly as PHP's `json_encode($value)` with no options (PHP ≥ 7.1, where
 * `serialize_precision = -1`), for receivers that compare bytes PHP itself would have produced.
 *
 * A value arrives here as JavaScript parsed it from JSON, so the encoder writes what PHP would write
 * for the value `json_decode($json, true)` gives PHP for the same JSON. That makes the output a fixed
 * point: `json_encode(json_decode($out, true)) === $out` in PHP. The rules:
 * - strings: `"`, `\`, `/` escaped (`\/`); `\b \f \n \r \t`; other control characters as `\u00XX`;
 *   every non-ASCII UTF-16 unit as lower-case `\uXXXX` (astral characters become surrogate pairs);
 *   DEL (0x7f) is left as is. A lone surrogate cannot be UTF-8, so PHP could not encode it: refused.
 * - integral numbers in PHP's int range (−2^63 ≤ n < 2^63) are PHP ints: plain digits, `-0` as `0`.
 * - other numbers are PHP floats: the shortest round-trip digits, in exponent form (`1.0e+21`,
 *   `1.0e-5`, a lone digit gets `.0`) when the decimal exponent is below −4 or above 16.
 * - a `Map` with string keys is written as an object in its insertion order.
 * - an object whose keys are exactly "0", "1", … in order, and the empty object, decode to a PHP
 *   list and so are written as arrays (`{}` → `[]`); other objects as objects.
 */

/** Thrown for a value PHP's `json_encode` could not have produced. */
export class PhpJsonError extends Error {}

const INT64_LIMIT = 2 ** 63;

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function hex4(unit: number): string {
  return `\\u${unit.toString(16).padStart(4, '0')}`;
}

/** @example phpString('é/') // '"\\u00e9\\/"' */
export function phpString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const unit = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (unit < 0x20) out += hex4(unit);
    else if (unit < 0x80) out += ch;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = s.charCodeAt(i + 1);
      if (!(low >= 0xdc00 && low <= 0xdfff)) throw new PhpJsonError('unpaired UTF-16 surrogate in a string');
      out += hex4(unit) + hex4(low);
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      throw new PhpJsonError('unpaired UTF-16 surrogate in a string');
    } else out += hex4(unit);
  }
  return `${out}"`;
}

/** @example phpNumber(1e21) // '1.0e+21' */
export function phpNumber(n: number): string {
  if (!Number.isFinite(n)) throw new PhpJsonError(`${n} has no JSON form`);
  if (Number.isInteger(n) && n >= -INT64_LIMIT && n < INT64_LIMIT) return BigInt(n).toString();
  // PHP's float form: zend_gcvt with precision 17 over the shortest round-trip digits.
  const [mantissa, exp] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const decpt = Number(exp) + 1;
  const sign = n < 0 ? '-' : '';
  if (decpt < -3 || decpt > 17) {
    const e = decpt - 1;
    const frac = digits.length > 1 ? digits.slice(1) : '0';
    return `${sign}${digits[0]}.${frac}e${e < 0 ? '-' : '+'}${Math.abs(e)}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return sign + digits + '0'.repeat(decpt - digits.length);
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Whether PHP, decoding this object into an array, gets a list (keys 0..n-1 in order). */
function isPhpList(keys: readonly string[]): boolean {
  return keys.every((k, i) => k === String(i));
}

function encode(value: unknown, depth: number): string {
  if (depth > 512) throw new PhpJsonError('nested deeper than PHP json_encode allows (512)');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return phpString(value);
    case 'number':
      return phpNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      if (value >= -(2n ** 63n) && value < 2n ** 63n) return value.toString();
      return phpNumber(Number(value));
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => encode(v, depth + 1)).join(',')}]`;
      // A Map keeps its keys in insertion order, integer-like ones included (a plain object would
      // move those first): envelopes use it to put their own fields before the data's.
      const all = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
      const entries = all.filter(([, v]) => v !== undefined);
      if (isPhpList(entries.map(([k]) => String(k)))) {
        return `[${entries.map(([, v]) => encode(v, depth + 1)).join(',')}]`;
      }
      return `{${entries.map(([k, v]) => `${phpString(String(k))}:${encode(v, depth + 1)}`).join(',')}}`;
    }
    default:
      throw new PhpJsonError(`a ${typeof value} has no JSON form`);
  }
}

/**
 * @example phpJsonEncode({ url: 'https://x/é', n: 1.5, tags: {} }) // '{"url":"https:\\/\\/x\\/\\u00e9","n":1.5,"tags":[]}'
 */
export function phpJsonEncode(value: unknown): string {
  return encode(value, 1);
}

/**
 * The JSON body parser. Fastify's default, plus a nesting limit checked before parsing: a body of
 * 100,000 nested arrays parses fine but then overflows the stack of whatever walks it (validation,
 * storage), so depth is refused up front in one linear scan. Prototype-poisoning keys are refused
 * as Fastify does.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { HeraldError } from '../core/errors.ts';

export const MAX_JSON_DEPTH = 64;

/** Deepest `{`/`[` nesting in `text`, ignoring brackets inside strings; stops once past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return max;
}

/**
 * Values JSON can spell but Herald cannot keep exactly once parsed (issue 16): numbers beyond a
 * double (`1e999999` would become `null`), non-zero numbers that underflow to 0 (`1e-400`), minus
 * zero (stored as `0`), and lone UTF-16 surrogates (`"\ud800"`, stored as U+FFFD by one column
 * and refused by another). One linear scan of the text, outside and inside strings; the first
 * problem found, or undefined.
 */
export function inexactJson(text: string): string | undefined {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 34 /* " */) inString = false;
      else if (c === 92 /* \ */) {
        if (text.charCodeAt(i + 1) !== 117 /* u */) {
          i++;
          continue;
        }
        const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const next = text.charCodeAt(i + 6) === 92 && text.charCodeAt(i + 7) === 117;
          const low = next ? Number.parseInt(text.slice(i + 8, i + 12), 16) : -1;
          if (!(low >= 0xdc00 && low <= 0xdfff)) return 'holds a lone UTF-16 surrogate (\\u escape)';
          i += 11;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          return 'holds a lone UTF-16 surrogate (\\u escape)';
        } else i += 5;
      } else if (c >= 0xd800 && c <= 0xdbff) {
        const low = text.charCodeAt(i + 1);
        if (!(low >= 0xdc00 && low <= 0xdfff)) return 'holds a lone UTF-16 surrogate';
        i++;
      } else if (c >= 0xdc00 && c <= 0xdfff) return 'holds a lone UTF-16 surrogate';
    } else if (c === 34) inString = true;
    else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        // digits, '.', 'e', 'E', '+', '-'
        if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) break;
      }
      const token = text.slice(i, j);
      const n = Number(token);
      if (n === Number.POSITIVE_INFINITY || n === Number.NEGATIVE_INFINITY)
        return `holds the number ${token.slice(0, 40)}, too large to keep exactly`;
      if (n === 0) {
        const mantissa = token.split(/[eE]/)[0]!;
        if (/[1-9]/.test(mantissa))
          return `holds the number ${token.slice(0, 40)}, too small to keep exactly`;
        if (token.startsWith('-')) return 'holds minus zero, which would be kept as 0';
      }
      i = j - 1;
    }
  }
  return undefined;
}

export function parseJsonBody(
  _req: FastifyRequest,
  body: string,
  done: (err: Error | null, value?: unknown) => void,
) {
  if (body === '') return done(new HeraldError('INVALID_JSON', 'The request body is empty'));
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return done(
      new HeraldError('VALIDATION_FAILED', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, [
        { path: 'body', message: `nested deeper than ${MAX_JSON_DEPTH} levels` },
      ]),
    );
  }
  let value: unknown;
  try {
    value = sjson.parse(body, null, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return done(new HeraldError('INVALID_JSON'));
  }
  // Checked on valid JSON only, so malformed text stays INVALID_JSON.
  const inexact = inexactJson(body);
  if (inexact) {
    return done(
      new HeraldError('VALIDATION_FAILED', `The JSON body ${inexact}`, [{ path: 'body', message: inexact }]),
    );
  }
  done(null, value);
}

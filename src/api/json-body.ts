/**
 * The JSON body parser. Fastify's default, plus two checks in one linear scan of the text before
 * parsing:
 * - a nesting limit: a body of 100,000 nested arrays parses fine but then overflows the stack of
 *   whatever walks it (validation, storage), so depth is refused up front;
 * - values JSON can spell but Herald cannot keep exactly once parsed (issue 16): numbers beyond a
 *   double (`1e999999` would become `null`), non-zero numbers that underflow to 0 (`1e-400`), minus
 *   zero (stored as `0`), and lone UTF-16 surrogates (`"\ud800"`, stored as U+FFFD by one column
 *   and refused by another) — refused the same way on every route.
 * Prototype-poisoning keys are refused as Fastify does.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { HeraldError } from '../core/errors.ts';

export const MAX_JSON_DEPTH = 64;

export interface JsonScan {
  /** Nested deeper than the limit (the scan stopped there). */
  tooDeep: boolean;
  /** The first value that cannot be kept exactly, described; undefined if none. */
  inexact: string | undefined;
}

/** A lone surrogate at `\u` escape `i` (the backslash), or how far the escape reaches. */
function escapeEnd(text: string, i: number): number | 'lone' {
  const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
  if (unit >= 0xdc00 && unit <= 0xdfff) return 'lone';
  if (unit < 0xd800 || unit > 0xdbff) return i + 5;
  const paired = text.charCodeAt(i + 6) === 92 && text.charCodeAt(i + 7) === 117;
  const low = paired ? Number.parseInt(text.slice(i + 8, i + 12), 16) : -1;
  return low >= 0xdc00 && low <= 0xdfff ? i + 11 : 'lone';
}

/** Why the number token `token` cannot be kept exactly, if it cannot. */
function inexactNumber(token: string): string | undefined {
  const n = Number(token);
  if (n === Number.POSITIVE_INFINITY || n === Number.NEGATIVE_INFINITY)
    return `holds the number ${token.slice(0, 40)}, too large to keep exactly`;
  if (n !== 0) return undefined;
  if (/[1-9]/.test(token.split(/[eE]/)[0]!))
    return `holds the number ${token.slice(0, 40)}, too small to keep exactly`;
  return token.startsWith('-') ? 'holds minus zero, which would be kept as 0' : undefined;
}

/** One pass over `text`, brackets and numbers outside strings, escapes and surrogates inside. */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let inString = false;
  let inexact: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 34 /* " */) inString = false;
      else if (c === 92 /* \ */) {
        if (text.charCodeAt(i + 1) !== 117 /* u */) i++;
        else {
          const end = escapeEnd(text, i);
          if (end === 'lone') inexact ??= 'holds a lone UTF-16 surrogate (\\u escape)';
          else i = end;
        }
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const low = text.charCodeAt(i + 1);
        if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) i++;
        else inexact ??= 'holds a lone UTF-16 surrogate';
      }
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return { tooDeep: true, inexact };
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        // digits, '.', 'e', 'E', '+', '-'
        if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) break;
      }
      inexact ??= inexactNumber(text.slice(i, j));
      i = j - 1;
    }
  }
  return { tooDeep: false, inexact };
}

/** Methods whose routes take no body: an empty one sent with a JSON content type is no body at all. */
const NO_BODY_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS']);

export function parseJsonBody(
  req: FastifyRequest,
  body: string,
  done: (err: Error | null, value?: unknown) => void,
) {
  if (body === '') {
    // Many HTTP clients label every request JSON, a DELETE included; nothing is missing there.
    if (NO_BODY_METHODS.has(req.method)) return done(null, undefined);
    return done(new HeraldError('INVALID_JSON', 'The request body is empty'));
  }
  const scan = scanJson(body);
  if (scan.tooDeep) {
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
  // Reported on valid JSON only, so malformed text stays INVALID_JSON.
  if (scan.inexact) {
    return done(
      new HeraldError('VALIDATION_FAILED', `The JSON body ${scan.inexact}`, [
        { path: 'body', message: scan.inexact },
      ]),
    );
  }
  done(null, value);
}

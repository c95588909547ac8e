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
  try {
    done(null, sjson.parse(body, null, { protoAction: 'error', constructorAction: 'error' }));
  } catch {
    done(new HeraldError('INVALID_JSON'));
  }
}

/**
 * An endpoint's extra request headers. They are sent on every delivery, before the profile's own
 * headers and the auth header, so they may never name a header Herald sets itself: that would let
 * an endpoint forge or break a signature, or confuse HTTP framing.
 */
import { type ErrorDetail, HeraldError } from '../core/errors.ts';
import { isOwnedHeader } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';

export const MAX_HEADERS = 50;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;

/**
 * Hop-by-hop and connection-control headers that the HTTP client either refuses or must own
 * (undici throws on `expect`, `keep-alive`, `upgrade`; the others describe the connection, not the
 * request): accepted, they would fail every attempt, so they are refused at registration (issue 16).
 */
const NEVER_SENT = new Set([
  'expect',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'http2-settings',
]);

// RFC 9110 token characters.
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What undici will send: HTAB, visible ASCII, space and obs-text; never CR, LF or NUL.
const VALUE_RE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

const shown = (name: string) => JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);

/**
 * Refuses unacceptable headers with INVALID_HEADERS, one detail per offending header.
 * `authType` is the endpoint's auth, whose Authorization header an extra header may not replace.
 *
 * @example validateHeaders({ 'x-tenant': 'acme' }, 'standard', null)
 */
export function validateHeaders(
  headers: Readonly<Record<string, string>>,
  profile: ProfileName,
  authType: string | null,
): void {
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) {
    throw new HeraldError('INVALID_HEADERS', `headers: at most ${MAX_HEADERS} headers`, [
      { path: 'headers', message: `has ${names.length} headers; at most ${MAX_HEADERS}` },
    ]);
  }
  const problems: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const value = headers[name];
    const path = `headers.${name}`;
    const lower = name.toLowerCase();
    if (name.length === 0 || name.length > MAX_HEADER_NAME_LENGTH || !TOKEN_RE.test(name)) {
      problems.push({ path, message: `${shown(name)} is not a valid header name` });
    } else if (NEVER_SENT.has(lower)) {
      problems.push({
        path,
        message: `${shown(name)} is a connection header Herald's HTTP client cannot send`,
      });
    } else if (isOwnedHeader(profile, name)) {
      problems.push({ path, message: `${shown(name)} is set by Herald and cannot be overridden` });
    } else if (authType !== null && lower === 'authorization') {
      problems.push({ path, message: `${shown(name)} is set from the endpoint's auth` });
    } else if (seen.has(lower)) {
      problems.push({ path, message: `${shown(name)} is given twice (header names ignore case)` });
    }
    seen.add(lower);
    if (typeof value !== 'string') {
      problems.push({ path, message: 'the value must be a string' });
    } else if (/[\r\n\0]/.test(value)) {
      problems.push({ path, message: 'the value must not contain CR, LF or NUL' });
    } else if (value.length > MAX_HEADER_VALUE_LENGTH) {
      problems.push({ path, message: `the value is longer than ${MAX_HEADER_VALUE_LENGTH} characters` });
    } else if (!VALUE_RE.test(value)) {
      problems.push({ path, message: 'the value holds characters that cannot be sent in a header' });
    }
  }
  const first = problems[0];
  if (first) {
    throw new HeraldError('INVALID_HEADERS', `${first.path}: ${first.message}`, problems.slice(0, 20));
  }
}

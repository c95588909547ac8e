/**
 * Telling "the database is not there right now" apart from every other failure, so the API can
 * answer 503 with Retry-After (the caller should try again shortly) instead of a 500 (a bug). What
 * a PostgreSQL restart, failover or terminated backend looks like through `pg`:
 * - SQLSTATE class 08 (connection exception) and 57P01–57P03 (admin or crash shutdown, cannot
 *   connect now), 53300 (too many connections);
 * - socket errors while connecting or talking (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT…);
 * - `pg`'s own "Connection terminated …" and the pool's "timeout exceeded when trying to connect",
 *   which carry no code.
 *
 * SQLSTATEs come only from the database. Socket codes and those messages do not say whose socket
 * failed — a client that drops its request mid-body raises ECONNRESET too — so they count only on
 * errors the PostgreSQL driver marked as its own (`fromDatabase`).
 */

const FROM_DATABASE = Symbol('herald.fromDatabase');

/** Marks `err` as raised by the database driver (src/db/postgres-driver.ts); answers it. */
export function fromDatabase(err: unknown): unknown {
  if (err && typeof err === 'object' && !(FROM_DATABASE in err)) {
    Object.defineProperty(err, FROM_DATABASE, { value: true });
  }
  return err;
}

const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /Cannot use a pool after calling end on the pool/,
];

export function isDatabaseUnavailable(err: unknown): boolean {
  const marked = err !== null && typeof err === 'object' && FROM_DATABASE in err;
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (code.startsWith('08') || SQLSTATES.has(code))) return true;
    if (marked && typeof code === 'string' && SOCKET_CODES.has(code)) return true;
    if (marked && typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Why a Herald process could not start, in one line (issue 16): the CLI prints it and exits 2, as it
 * does for a bad setting — not a stack trace. What the operator can fix is named: the listen
 * address, the database and how it was reached (never the password).
 */
import { createServer } from 'node:net';
import { isDatabaseUnavailable } from '../db/database-unavailable.ts';

export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** `postgres://user:secret@host/db` without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured DATABASE_URL';
  }
}

const LISTEN_CODES: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another process listens there)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
  EACCES: 'permission denied (ports below 1024 need privileges)',
};

/** A listen failure as a StartupError, or undefined when it is something else. */
export function listenError(err: unknown, host: string, port: number): StartupError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !(code in LISTEN_CODES)) return undefined;
  return new StartupError(`cannot listen on ${host}:${port}: ${LISTEN_CODES[code]}`, { cause: err });
}

/**
 * Checks that `host:port` can be listened on before anything else happens, so a port in use fails
 * the start before a data directory is made, keys generated or migrations run. (Another process
 * may still take it in between: the real listen reports that the same way.)
 */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(listenError(err, host, port) ?? err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

const DATABASE_CODES: Record<string, string> = {
  '3D000': 'the database does not exist',
  '28P01': 'the password was refused',
  '28000': 'the connection was refused by the server (pg_hba.conf)',
};

/** A failure to reach or use PostgreSQL at start as a StartupError, or undefined. */
export function databaseError(err: unknown, url: string): StartupError | undefined {
  const code = (err as { code?: unknown })?.code;
  const why =
    typeof code === 'string' && code in DATABASE_CODES
      ? DATABASE_CODES[code]
      : isDatabaseUnavailable(err)
        ? `it cannot be reached (${typeof code === 'string' ? code : (err as Error).message})`
        : undefined;
  if (!why) return undefined;
  return new StartupError(`cannot use PostgreSQL at ${redactedUrl(url)}: ${why}`, { cause: err });
}

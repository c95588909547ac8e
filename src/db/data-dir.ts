/**
 * The embedded data directory: its lock (one process at a time), its first-start initialisation
 * (build the database in a temporary directory, then rename it into place, so an interrupted first
 * start never leaves a half-made database) and the key files generated once and kept there.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { openPgliteThread } from './pglite-thread-driver.ts';

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `data directory ${dir} is in use by another Herald process (pid ${pid}); stop it or use another --data-dir`,
    );
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock file for this process. A lock left by a process that no longer runs is
 * taken over. Returns the function that releases it.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Whatever the umask or whoever made it: only Herald's user may enter (issue 16).
  chmodSync(dir, 0o700);
  const lockPath = join(dir, 'herald.lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(resolve(dir), pid);
      }
      rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock data directory ${resolve(dir)}`);
}

/**
 * Makes everything under the data directory its owner's alone: directories 0700, files 0600.
 * PGlite creates its files 0666 whatever the umask (968 of ~1,000 files, `pg_hba.conf` among them),
 * so this runs at every start, after initialising; files it creates later keep its mode but sit
 * inside directories no other user may enter.
 */
export function restrictDataDir(dir: string): void {
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        chmodSync(child, 0o700);
        walk(child);
      } else if (entry.isFile()) {
        chmodSync(child, 0o600);
      }
    }
  };
  chmodSync(dir, 0o700);
  walk(dir);
}

/** Where the database files live inside the data directory. */
export function pgDataPath(dir: string): string {
  return join(dir, 'pgdata');
}

/**
 * Makes sure the directory holds an initialised database. The first start initialises into
 * `pgdata.init` and renames it to `pgdata` only once PGlite has closed cleanly; a leftover
 * `pgdata.init` from an interrupted start is discarded and redone.
 */
export async function ensureInitialised(dir: string): Promise<void> {
  const target = pgDataPath(dir);
  if (existsSync(join(target, 'PG_VERSION'))) return;
  const staging = `${target}.init`;
  rmSync(staging, { recursive: true, force: true });
  // On its thread, as every open in a running Herald: the main thread never loads PGlite itself.
  const db = await openPgliteThread({ dataDir: staging });
  await db.close();
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
}

/**
 * Reads a key kept in the data directory, generating it on first use. `created` says whether it was
 * just made (the admin key is then printed once).
 */
export function readOrCreateKey(
  dir: string,
  name: string,
  make: () => string,
): { value: string; created: boolean } {
  const path = join(dir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false };
  const value = make();
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${value}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return { value, created: true };
}

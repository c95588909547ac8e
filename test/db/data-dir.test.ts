import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import {
  DataDirLockedError,
  ensureInitialised,
  lockDataDir,
  pgDataPath,
  readOrCreateKey,
} from '../../src/db/data-dir.ts';
import { openStorage } from '../../src/server/open-storage.ts';

const root = mkdtempSync(join(tmpdir(), 'herald-datadir-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a second process cannot lock the directory; a stale lock is taken over', async () => {
  const dir = join(root, 'lock');
  // A live process holds the lock.
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'herald.lock'), String(holder.pid));
  try {
    assert.throws(() => lockDataDir(dir), DataDirLockedError);
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
  }
  // Its process is gone: the lock is stale and ours to take.
  const release = lockDataDir(dir);
  assert.equal(readFileSync(join(dir, 'herald.lock'), 'utf8'), String(process.pid));
  release();
  assert.equal(existsSync(join(dir, 'herald.lock')), false);
});

test('an interrupted first start is redone, not left half-made', async () => {
  const dir = join(root, 'init');
  // What an interrupted initialisation leaves behind: a staging directory with partial files.
  mkdirSync(`${pgDataPath(dir)}.init/base`, { recursive: true });
  writeFileSync(`${pgDataPath(dir)}.init/garbage`, 'x');
  await ensureInitialised(dir);
  assert.ok(existsSync(join(pgDataPath(dir), 'PG_VERSION')));
  assert.equal(existsSync(`${pgDataPath(dir)}.init`), false);
});

test('keys are generated once and kept', () => {
  const dir = join(root, 'keys');
  mkdirSync(dir, { recursive: true });
  const first = readOrCreateKey(dir, 'admin-key', () => 'k1');
  const second = readOrCreateKey(dir, 'admin-key', () => 'k2');
  assert.deepEqual(first, { value: 'k1', created: true });
  assert.deepEqual(second, { value: 'k1', created: false });
});

test('the embedded data directory is its owner’s alone, whatever the umask (issue 16)', async () => {
  const dir = join(root, 'private');
  const previous = process.umask(0o022);
  try {
    const storage = await openStorage(loadConfig({}, { HERALD_DATA_DIR: dir }));
    try {
      await storage.db.query('CREATE TABLE IF NOT EXISTS x (a int)');
      const loose: string[] = [];
      const walk = (path: string) => {
        for (const entry of readdirSync(path, { withFileTypes: true })) {
          const child = join(path, entry.name);
          const mode = statSync(child).mode & 0o777;
          if (entry.isDirectory()) {
            if (mode !== 0o700) loose.push(`${child} ${mode.toString(8)}`);
            walk(child);
          } else if (mode !== 0o600) loose.push(`${child} ${mode.toString(8)}`);
        }
      };
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      walk(dir);
      // Files PGlite makes after the start keep its 0666, but no other user can reach them.
      assert.deepEqual(
        loose.filter((l) => !l.endsWith(' 666') || !l.includes(`${dir}/pgdata/`)),
        [],
        'every directory 0700; every file Herald found at start 0600',
      );
      assert.ok(readdirSync(join(dir, 'pgdata')).length > 10, 'the walk saw the database');
    } finally {
      await storage.close();
    }
    // At the next start the files made since are 0600 too.
    const again = await openStorage(loadConfig({}, { HERALD_DATA_DIR: dir }));
    await again.close();
    const files = readdirSync(join(dir, 'pgdata', 'base'), { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile(),
    );
    assert.ok(files.length > 0);
    for (const f of files) assert.equal(statSync(join(f.parentPath, f.name)).mode & 0o777, 0o600, f.name);
  } finally {
    process.umask(previous);
  }
});

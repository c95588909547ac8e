import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  DataDirLockedError,
  ensureInitialised,
  lockDataDir,
  pgDataPath,
  readOrCreateKey,
} from '../../src/db/data-dir.ts';

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

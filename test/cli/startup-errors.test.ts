/**
 * Start-up failures name the problem in one line and exit 2, as bad settings do — and a port in use
 * fails before anything is created (issue 16). `herald serve` as a real child process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { redactedUrl } from '../../src/server/startup-error.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const cwd = mkdtempSync(join(tmpdir(), 'herald-startup-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

function serve(args: string[], env: Record<string, string> = {}) {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      !/^(HERALD_.*|DATABASE_URL|PORT|HOST|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR|NO_COLOR)$/.test(k)
    )
      clean[k] = v;
  }
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, 'serve', ...args],
      { cwd, env: { ...clean, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

test('a port in use: one line, exit 2, and no data directory made', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    const dataDir = join(cwd, 'never-made');
    const r = await serve(['--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `herald: cannot listen on 127.0.0.1:${port}: the address is in use (another process listens there)\n`,
    );
    assert.equal(existsSync(dataDir), false, 'nothing created before the address was known to be free');
  } finally {
    busy.close();
  }
});

test('PostgreSQL unreachable: one line naming it (without the password), exit 2', async () => {
  // A loopback port nothing listens on.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const r = await serve(['--port', '0'], {
    DATABASE_URL: `postgres://herald:s3cret@127.0.0.1:${port}/herald`,
    HERALD_ADMIN_KEY: 'hk_admin_test_key_0123456789abcdef',
    HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^herald: cannot use PostgreSQL at postgres://herald:\\*\\*\\*@127\\.0\\.0\\.1:${port}/herald: it cannot be reached \\(ECONNREFUSED\\)`,
    ),
  );
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('a database that does not exist: named, exit 2', { skip: !process.env.TEST_DATABASE_URL }, async () => {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = '/herald_no_such_database';
  const r = await serve(['--port', '0'], {
    DATABASE_URL: url.toString(),
    HERALD_ADMIN_KEY: 'hk_admin_test_key_0123456789abcdef',
    HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^herald: cannot use PostgreSQL at .*\/herald_no_such_database: the database does not exist\n$/,
  );
});

test('the password never appears in messages', () => {
  assert.equal(redactedUrl('postgres://u:pw@h:5432/d'), 'postgres://u:***@h:5432/d');
  assert.equal(redactedUrl('not a url'), 'the configured DATABASE_URL');
});

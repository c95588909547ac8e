/**
 * The `herald` CLI as a real child process (`node --import tsx src/cli/main.ts …`) against the API
 * on a loopback port, and `herald listen` receiving a correctly signed and a tampered request.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { waitFor } from '../support/poll.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** This process's environment without Herald's variables or the test runner's. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(HERALD_.*|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR|NO_COLOR)$/.test(k))
      env[k] = v;
  }
  return { ...env, ...extra };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd: opts.cwd, env: cleanEnv(opts.env), timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('herald CLI over the API', () => {
  let t: TestApp;
  let url: string;
  let cwd: string;
  const run = (...args: string[]) => cli(args, { cwd, env: { HERALD_URL: url } });

  before(async () => {
    t = await makeTestApp('pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    // The default API key: ./herald-data/admin-key, as the embedded server writes it.
    cwd = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    mkdirSync(join(cwd, 'herald-data'));
    writeFileSync(join(cwd, 'herald-data', 'admin-key'), `${t.adminKey}\n`);
  });
  after(async () => {
    await t?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('tenants: create and list (table and --json), using the data directory admin key', async () => {
    const created = await run('tenants', 'create', '--id', 'acme', '--name', 'Acme Inc');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^id +acme$/m);
    const list = await run('tenants', 'list');
    assert.equal(list.code, 0, list.stderr);
    const [head, row] = list.stdout.split('\n');
    assert.match(head!, /^ID +NAME +CREATED AT$/);
    // Columns are aligned: each value starts under its header.
    assert.equal(row!.indexOf('Acme Inc'), head!.indexOf('NAME'));
    const json = await run('tenants', 'list', '--json');
    assert.deepEqual(
      (JSON.parse(json.stdout) as { data: { id: string }[] }).data.map((x) => x.id),
      ['acme'],
    );
  });

  test('profiles: the wire formats as the server describes them', async () => {
    const list = await run('profiles');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME +LABEL +OPTIONS +REQUIRED AUTH +BATCHED$/m);
    assert.match(list.stdout, /^courier-invoice +Courier Invoice +accountNumber \(required\) +- +true$/m);
    assert.match(list.stdout, /^corrigopro +CorrigoPro +apiVersion +bearer or oauth2 +false$/m);
  });

  test('exit codes: API refusal 1 with "code: message", usage error 2', async () => {
    const missing = await run('tenants', 'get', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^TENANT_NOT_FOUND: /);
    const wrongKey = await run('tenants', 'list', '--api-key', 'hk_wrong');
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /^UNAUTHORIZED: /);
    const badJson = await run('send', '--tenant', 'acme', '--type', 'x.y', '--data', '{nope');
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--data is not valid JSON/);
    const version = await run('--version');
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const noTenant = await run('events', 'list');
    assert.equal(noTenant.code, 2);
    assert.match(noTenant.stderr, /--tenant/);
  });

  test('endpoints, send, events and deliveries', async () => {
    const ep = await run(
      'endpoints',
      'create',
      'http://127.0.0.1:9/hook',
      '--tenant',
      'acme',
      '--profile',
      'shipstream',
      '--types',
      'order.*',
      '--json',
    );
    assert.equal(ep.code, 0, ep.stderr);
    const endpoint = JSON.parse(ep.stdout) as { id: string; secret: string; profile: string };
    assert.equal(endpoint.profile, 'shipstream');
    assert.ok(endpoint.secret);

    const sent = await run(
      'send',
      '--tenant',
      'acme',
      '--type',
      'order.paid',
      '--data',
      '{"n":1}',
      '--id',
      'e1',
      '--json',
    );
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((JSON.parse(sent.stdout) as { id: string }).id, 'e1');

    const events = await run('events', 'list', '--tenant', 'acme');
    assert.match(events.stdout, /^e1 +order\.paid /m);
    const deliveries = await run('deliveries', 'list', '--tenant', 'acme', '--json');
    const page = JSON.parse(deliveries.stdout) as { data: { endpointId: string; eventId: string }[] };
    assert.deepEqual(
      page.data.map((d) => [d.endpointId, d.eventId]),
      [[endpoint.id, 'e1']],
    );
    const eps = await run('endpoints', 'list', '--tenant', 'acme');
    assert.match(
      eps.stdout,
      new RegExp(`^${endpoint.id} +http://127.0.0.1:9/hook +shipstream +order\\.\\*`, 'm'),
    );
  });
});

describe('herald listen', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });

  test('verifies a correctly signed request (200, ✓) and refuses a tampered one (400, ✗ code)', async () => {
    const secret = 'shipstream-secret';
    child = spawn(
      process.execPath,
      ['--import', TSX, MAIN, 'listen', '--port', '0', '--profile', 'shipstream', '--secret', secret],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    const printed = (re: RegExp) =>
      waitFor(
        `${re} in what listen printed`,
        () => {
          if (child!.exitCode !== null) assert.fail(`listen exited: ${out}`);
          return re.exec(out);
        },
        { timeoutMs: 60_000, intervalMs: 20, detail: () => out },
      );
    const port = Number((await printed(/Listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

    const body = '{"topic":"order.paid","message_id":3,"message":{"n":1}}';
    const sig = createHmac('sha256', secret).update(body).digest('base64');
    const send = (b: string) =>
      fetch(`http://127.0.0.1:${port}/hook`, {
        method: 'POST',
        body: b,
        headers: { 'content-type': 'application/json', 'x-plugin-hmac-sha256': sig },
      });
    const ok = await send(body);
    assert.equal(ok.status, 200);
    await printed(/verified +✓/);
    assert.match(out, /profile +shipstream/);
    assert.match(out, /event +order\.paid {2}\(id 3\)/);
    assert.match(out, /"topic": "order\.paid"/);

    const bad = await send(body.replace('"n":1', '"n":2'));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_SIGNATURE');
    await printed(/verified +✗ INVALID_SIGNATURE/);

    // Anyone may POST to a local port (any web page can): control characters are shown escaped,
    // never sent raw to the terminal (issue 16).
    const evil = await send('\u001b]0;pwned\u0007\u001b[2J');
    assert.equal(evil.status, 400);
    await printed(/\\u001b\]0;pwned\\u0007/);
    assert.ok(!out.includes('\u001b') && !out.includes('\u0007'), 'no raw control character was printed');

    const exited = new Promise((r) => child!.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    await exited;
  });
});

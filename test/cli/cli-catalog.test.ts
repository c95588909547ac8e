/**
 * `herald event-types …` and the documented flow it enables (docs/cli.md): an event type with an
 * example, then `herald endpoints test … --type invoice.created` sends it. Also `delete-by-url`
 * saying how many it removed, `--retry-schedule` in durations, and the hint when a key is refused.
 * The CLI runs as a real child process against the API on a loopback port.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTestApp, type TestApp } from '../support/app.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('herald event-types, endpoints test and delete-by-url', () => {
  let t: TestApp;
  let cwd: string;
  let env: Record<string, string>;

  const run = (...args: string[]): Promise<Result> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', TSX, MAIN, ...args],
        { cwd, env, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
        },
      );
    });

  before(async () => {
    t = await makeTestApp('pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(HERALD_.*|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR|NO_COLOR)$/.test(k))
        env[k] = v;
    }
    env['HERALD_URL'] = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    // The key as `herald serve` leaves it: ./herald-data/admin-key.
    cwd = mkdtempSync(join(tmpdir(), 'herald-cli-catalog-'));
    mkdirSync(join(cwd, 'herald-data'));
    writeFileSync(join(cwd, 'herald-data', 'admin-key'), `${t.adminKey}\n`);
  });
  after(async () => {
    await t?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('the documented flow: an event type with an example, then endpoints test --type', async () => {
    assert.equal((await run('tenants', 'create', '--id', 'acme', '--name', 'Acme')).code, 0);
    const ep = await run('endpoints', 'create', 'http://127.0.0.1:9/h', '--tenant', 'acme', '--json');
    assert.equal(ep.code, 0, ep.stderr);
    const endpointId = (JSON.parse(ep.stdout) as { id: string }).id;

    // Without a catalog entry (and no --data) there is nothing to send: the API says so.
    const before = await run(
      'endpoints',
      'test',
      endpointId,
      '--tenant',
      'acme',
      '--type',
      'invoice.created',
    );
    assert.equal(before.code, 1);
    assert.match(before.stderr, /not in the catalog/);

    writeFileSync(join(cwd, 'schema.json'), '{"type": "object", "required": ["invoiceId"]}');
    const created = await run(
      'event-types',
      'create',
      'invoice.created',
      '--description',
      'an invoice was issued',
      '--schema',
      '@schema.json',
      '--example',
      '{"invoiceId": 42}',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^name +invoice\.created$/m);
    assert.match(created.stdout, /^example +\{"invoiceId":42\}$/m);

    const list = await run('event-types', 'list');
    assert.match(list.stdout, /^NAME +DESCRIPTION +SCHEMA +EXAMPLE +UPDATED AT$/m);
    assert.match(list.stdout, /^invoice\.created +an invoice was issued /m);

    const sent = await run('endpoints', 'test', endpointId, '--tenant', 'acme', '--type', 'invoice.created');
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent event \S+ as delivery dlv_\S+$/m);

    // An example that breaks the schema is refused by the API (exit 1), bad JSON by the CLI (exit 2).
    const bad = await run('event-types', 'update', 'invoice.created', '--example', '{"total": 1}');
    assert.equal(bad.code, 1);
    const notJson = await run('event-types', 'update', 'invoice.created', '--example', '{nope');
    assert.deepEqual([notJson.code, notJson.stderr], [2, 'herald: --example is not valid JSON\n']);
    const nothing = await run('event-types', 'update', 'invoice.created');
    assert.equal(nothing.code, 2);

    const cleared = await run('event-types', 'update', 'invoice.created', '--schema', 'null', '--json');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((JSON.parse(cleared.stdout) as { schema: unknown }).schema, null);
    assert.equal((await run('event-types', 'get', 'invoice.created', '--json')).code, 0);
    const deleted = await run('event-types', 'delete', 'invoice.created');
    assert.deepEqual([deleted.code, deleted.stdout], [0, 'deleted event type invoice.created\n']);
    const gone = await run('event-types', 'get', 'invoice.created');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^EVENT_TYPE_NOT_FOUND: /);
  });

  test('delete-by-url says how many endpoints it removed', async () => {
    const url = 'http://127.0.0.1:9/twice';
    for (let i = 0; i < 2; i++) {
      assert.equal((await run('endpoints', 'create', url, '--tenant', 'acme')).code, 0);
    }
    const r = await run('endpoints', 'delete-by-url', url, '--tenant', 'acme');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deleted 2 endpoints with URL http:\/\/127\.0\.0\.1:9\/twice: ep_\S+, ep_\S+\n$/);
    const again = await run('endpoints', 'delete-by-url', url, '--tenant', 'acme');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^ENDPOINT_NOT_FOUND: /);
  });

  test('--retry-schedule takes durations: 2s,5m is [2, 300]; default resets', async () => {
    const ep = await run(
      'endpoints',
      'create',
      'http://127.0.0.1:9/r',
      '--tenant',
      'acme',
      '--retry-schedule',
      '2s,5m',
      '--json',
    );
    assert.equal(ep.code, 0, ep.stderr);
    const { id, retrySchedule } = JSON.parse(ep.stdout) as { id: string; retrySchedule: number[] };
    assert.deepEqual(retrySchedule, [2, 300]);
    const reset = await run(
      'endpoints',
      'update',
      id,
      '--tenant',
      'acme',
      '--retry-schedule',
      'default',
      '--json',
    );
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((JSON.parse(reset.stdout) as { retrySchedule: unknown }).retrySchedule, null);
    const bad = await run('endpoints', 'update', id, '--tenant', 'acme', '--retry-schedule', '2s,soon');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"soon" is not a duration like 90s, 30m, 12h or 5d/);
  });

  test('a refused key: the API error, then where the key came from', async () => {
    const r = await run('tenants', 'list', '--api-key', 'hk_wrong');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^UNAUTHORIZED: .*\n {2}the key came from --api-key or HERALD_API_KEY\n$/);
  });
});

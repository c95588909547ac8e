/**
 * The CLI's flags for issue 20's endpoint options — `--signature-scheme ed25519` (the `whpk_`
 * public key printed where the secret is), `--forward-traceparent` and `--no-forward-traceparent` —
 * and `herald operational-endpoints`: every command against the API, its refusals (exit 1), its
 * usage errors (one line, exit 2), and that it loads neither the server nor `herald endpoints`.
 * The CLI runs as a real child process against the API on a loopback port (as test/cli/cli.test.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OPERATIONAL_EVENT_TYPE_NAMES } from '../../src/event-types/operational-event-types.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { cleanEnv, HERALD_CLI } from '../support/cli-process.ts';

const MODULE_LOG_HOOK = fileURLToPath(new URL('../support/module-log.mjs', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string, env: Record<string, string>, nodeArgs: string[] = []) {
  return new Promise<Result>((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, ...HERALD_CLI, ...args],
      { cwd, env: cleanEnv({ NO_COLOR: '1', ...env }), timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

interface EndpointJson {
  id: string;
  url: string;
  name: string | null;
  eventTypes: string[];
  active: boolean;
  profile: string;
  signatureScheme: string;
  publicKey: string | null;
  forwardTraceparent: boolean;
  secret?: string;
}

const WHPK = /^whpk_[A-Za-z0-9+/]{43}=$/;
const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe('herald endpoints and operational-endpoints: issue 20 options', () => {
  let t: TestApp;
  let cwd: string;
  let url: string;
  const run = (...args: string[]) => cli(args, cwd, { HERALD_URL: url });
  /** Runs and parses the JSON it prints, failing with its stderr when it did not succeed. */
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await run(...args, '--json');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  before(async () => {
    t = await makeTestApp('pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    cwd = mkdtempSync(join(tmpdir(), 'herald-cli-operational-'));
    mkdirSync(join(cwd, 'herald-data'));
    writeFileSync(join(cwd, 'herald-data', 'admin-key'), `${t.adminKey}\n`);
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
  });
  after(async () => {
    await t?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('endpoints create --signature-scheme ed25519 --forward-traceparent: the whpk_ key is printed as its secret', async () => {
    const created = await run(
      'endpoints',
      'create',
      'http://127.0.0.1:9/ed',
      '--tenant',
      'acme',
      '--signature-scheme',
      'ed25519',
      '--forward-traceparent',
    );
    assert.equal(created.code, 0, created.stderr);
    const secret = /^secret +(\S+)$/m.exec(created.stdout)?.[1] ?? '';
    assert.match(secret, WHPK);
    assert.match(created.stdout, /^signatureScheme +ed25519$/m);
    assert.match(created.stdout, /^forwardTraceparent +true$/m);
    assert.match(created.stdout, new RegExp(`^publicKey +${secret.replace(/[+/]/g, '\\$&')}$`, 'm'));
    const id = /^id +(ep_\S+)$/m.exec(created.stdout)![1]!;

    // The API agrees, and `secret` prints the same public key.
    const stored = (await t.request('GET', `/v1/tenants/acme/endpoints/${id}`)).json() as EndpointJson;
    assert.deepEqual(
      [stored.signatureScheme, stored.publicKey, stored.forwardTraceparent],
      ['ed25519', secret, true],
    );
    assert.equal((await run('endpoints', 'secret', id, '--tenant', 'acme')).stdout, `${secret}\n`);

    // --no-forward-traceparent turns it off; leaving both out changes nothing.
    const off = await json<EndpointJson>(
      'endpoints',
      'update',
      id,
      '--tenant',
      'acme',
      '--no-forward-traceparent',
    );
    assert.equal(off.forwardTraceparent, false);
    const renamed = await json<EndpointJson>('endpoints', 'update', id, '--tenant', 'acme', '--name', 'ed');
    assert.deepEqual([renamed.name, renamed.forwardTraceparent], ['ed', false]);

    // Rotating back to HMAC prints the new whsec_ secret.
    const rotated = await run(
      'endpoints',
      'rotate-secret',
      id,
      '--tenant',
      'acme',
      '--signature-scheme',
      'hmac-sha256',
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout.trim(), WHSEC);
  });

  test('endpoints create: an HMAC endpoint by default, and the API refusing Ed25519 for another profile (exit 1)', async () => {
    const plain = await json<EndpointJson>(
      'endpoints',
      'create',
      'http://127.0.0.1:9/plain',
      '--tenant',
      'acme',
    );
    assert.deepEqual(
      [plain.signatureScheme, plain.publicKey, plain.forwardTraceparent],
      ['hmac-sha256', null, false],
    );
    assert.match(plain.secret!, WHSEC);

    const refused = await run(
      'endpoints',
      'create',
      'http://127.0.0.1:9/ship',
      '--tenant',
      'acme',
      '--profile',
      'shipstream',
      '--signature-scheme',
      'ed25519',
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^VALIDATION_FAILED: signatureScheme: ed25519 is a scheme of the standard profile/,
    );
    // Forwarding with the endpoint's own traceparent header: the API's refusal, as it gave it.
    const clash = await run(
      'endpoints',
      'create',
      'http://127.0.0.1:9/clash',
      '--tenant',
      'acme',
      '--forward-traceparent',
      '--header',
      'traceparent: 00-x',
    );
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /^INVALID_HEADERS: /);
    assert.match(clash.stderr, /^ {2}headers\.traceparent: is sent by forwardTraceparent$/m);
  });

  test('operational-endpoints: event-types, create, list, get, update, pause, resume, secret, rotate-secret, delete', async () => {
    const types = await run('operational-endpoints', 'event-types');
    assert.equal(types.code, 0, types.stderr);
    assert.match(types.stdout, /^NAME +DESCRIPTION$/m);
    for (const name of OPERATIONAL_EVENT_TYPE_NAMES) assert.match(types.stdout, new RegExp(`^${name} `, 'm'));

    const created = await run(
      'operational-endpoints',
      'create',
      'http://127.0.0.1:9/ops',
      '--name',
      'Pager',
      '--types',
      'endpoint.*,delivery.exhausted',
      '--forward-traceparent',
      '--retry-schedule',
      '5s,1m',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^secret +whsec_\S+$/m);
    assert.match(created.stdout, /^profile +standard$/m);
    const id = /^id +(ep_\S+)$/m.exec(created.stdout)![1]!;
    // An endpoint of the operational tenant, as the API made it.
    const stored = (await t.request('GET', `/v1/operational-endpoints/${id}`)).json() as EndpointJson & {
      tenantId: string;
      retrySchedule: number[];
    };
    assert.deepEqual(
      [stored.tenantId, stored.name, stored.eventTypes, stored.forwardTraceparent, stored.retrySchedule],
      ['_herald', 'Pager', ['endpoint.*', 'delivery.exhausted'], true, [5, 60]],
    );

    const list = await run('operational-endpoints', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID +URL +NAME +EVENT TYPES +ACTIVE +DISABLED REASON +CREATED AT$/m);
    assert.match(
      list.stdout,
      new RegExp(
        `^${id} +http://127\\.0\\.0\\.1:9/ops +Pager +endpoint\\.\\*,delivery\\.exhausted +true `,
        'm',
      ),
    );
    assert.equal(
      (await json<EndpointJson>('operational-endpoints', 'get', id)).url,
      'http://127.0.0.1:9/ops',
    );

    const updated = await json<EndpointJson>(
      'operational-endpoints',
      'update',
      id,
      '--types',
      'delivery.exhausted',
      '--no-forward-traceparent',
    );
    assert.deepEqual([updated.eventTypes, updated.forwardTraceparent], [['delivery.exhausted'], false]);

    const paused = await run('operational-endpoints', 'pause', id);
    assert.deepEqual([paused.code, paused.stdout], [0, `paused operational endpoint ${id}\n`]);
    assert.equal(
      ((await t.request('GET', `/v1/operational-endpoints/${id}`)).json() as EndpointJson).active,
      false,
    );
    assert.equal((await json<EndpointJson>('operational-endpoints', 'resume', id)).active, true);

    const rotated = await run('operational-endpoints', 'rotate-secret', id, '--signature-scheme', 'ed25519');
    assert.equal(rotated.code, 0, rotated.stderr);
    const publicKey = rotated.stdout.trim();
    assert.match(publicKey, WHPK);
    assert.equal((await run('operational-endpoints', 'secret', id)).stdout, `${publicKey}\n`);
    assert.equal((await json<EndpointJson>('operational-endpoints', 'get', id)).publicKey, publicKey);

    const deleted = await run('operational-endpoints', 'delete', id);
    assert.deepEqual([deleted.code, deleted.stdout], [0, `deleted operational endpoint ${id}\n`]);
    assert.equal((await run('operational-endpoints', 'list')).stdout, '(none)\n');
    const gone = await run('operational-endpoints', 'get', id);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^ENDPOINT_NOT_FOUND: /);
  });

  test('operational-endpoints: refusals exit 1 with the code (a type of no operational event, a tenant key)', async () => {
    const wrongType = await run(
      'operational-endpoints',
      'create',
      'http://127.0.0.1:9/ops',
      '--types',
      'invoice.*',
    );
    assert.equal(wrongType.code, 1);
    assert.match(wrongType.stderr, /^VALIDATION_FAILED: /);
    assert.match(wrongType.stderr, /matches none of Herald's operational event types/);

    const tenantKey = await t.tenantKey('acme');
    const forbidden = await run('operational-endpoints', 'list', '--api-key', tenantKey);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /^FORBIDDEN: /);
    // Nothing was made.
    assert.deepEqual(((await t.request('GET', '/v1/operational-endpoints')).json() as { data: [] }).data, []);
  });

  test('usage errors: one line naming the command, exit 2, before any request', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['operational-endpoints', 'create'],
        "herald: missing required argument 'url' (see herald operational-endpoints create --help)\n",
      ],
      [
        ['operational-endpoints', 'create', 'http://127.0.0.1:9/x', '--profile', 'shipstream'],
        "herald: unknown option '--profile' (see herald operational-endpoints create --help)\n",
      ],
      [
        ['operational-endpoints', 'rotate-secret', 'ep_x', '--signature-scheme', 'rsa'],
        "herald: option '--signature-scheme <scheme>' argument 'rsa' is invalid. --signature-scheme must be hmac-sha256 or ed25519 (see herald operational-endpoints rotate-secret --help)\n",
      ],
      [
        ['operational-endpoints', 'update', 'ep_x', '--active', 'maybe'],
        "herald: option '--active <bool>' argument 'maybe' is invalid. --active must be true or false (see herald operational-endpoints update --help)\n",
      ],
      [
        ['endpoints', 'create', 'http://127.0.0.1:9/x', '--tenant', 'acme', '--signature-scheme', 'hmac'],
        "herald: option '--signature-scheme <scheme>' argument 'hmac' is invalid. --signature-scheme must be hmac-sha256 or ed25519 (see herald endpoints create --help)\n",
      ],
    ];
    const before = JSON.stringify((await t.request('GET', '/v1/operational-endpoints')).json());
    for (const [args, stderr] of cases) {
      const r = await run(...args);
      assert.deepEqual([r.code, r.stderr, r.stdout], [2, stderr, ''], args.join(' '));
    }
    assert.equal(JSON.stringify((await t.request('GET', '/v1/operational-endpoints')).json()), before);
    const group = await run('operational-endpoints');
    assert.equal(group.code, 2);
    assert.match(group.stderr, /^Usage: herald operational-endpoints \[options\] \[command\]/);
    assert.match(group.stderr, /rotate-secret/);
  });

  test('operational-endpoints loads neither the server nor the endpoints command', async () => {
    const log = join(cwd, 'modules.log');
    const r = await cli(['operational-endpoints', 'list'], cwd, { HERALD_URL: url, MODULE_LOG: log }, [
      '--import',
      MODULE_LOG_HOOK,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n');
    assert.ok(loaded.some((u) => u.endsWith('/src/cli/commands/operational-endpoints.ts')));
    const heavy = loaded.filter((u) =>
      /\/src\/(server|api|db|delivery|store)\/|\/node_modules\/(fastify|pg|@electric-sql|pino)\/|\/src\/cli\/commands\/(endpoints|listen|server)\.ts$/.test(
        u,
      ),
    );
    assert.deepEqual(heavy, []);
  });
});

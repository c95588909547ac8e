/**
 * `herald listen --tenant` against a real Herald (`herald serve` on a fresh embedded data directory,
 * private networks allowed), all on loopback: it registers its endpoint, prints each delivery
 * verified, forwards to an app and relays its status, answers a chosen --status, and removes the
 * endpoint on SIGTERM; bad options exit 2 with one line before anything is registered; without
 * HERALD_ALLOW_PRIVATE_NETWORKS the refusal names it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerListen } from '../../src/cli/commands/listen.ts';
import { checkListenOptions, type ListenFlags } from '../../src/cli/listen/listen-options.ts';
import { UsageError } from '../../src/cli/usage.ts';
import { verifyWebhook } from '../../src/verify/verify-webhook.ts';
import { makeTestApp } from '../support/app.ts';
import {
  cleanEnv,
  type GroupProcess,
  HERALD_CLI,
  spawnGroup,
  stopSpawnedGroups,
} from '../support/cli-process.ts';
import { waitFor } from '../support/poll.ts';
import { api, type HeraldProcess, killSpawned, startHeraldProcess } from '../support/processes.ts';

interface Delivery {
  id: string;
  status: string;
  attemptCount: number;
  lastStatusCode: number | null;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** listen's flags as its command parses them (no action run). */
function parseListenFlags(args: string[]): ListenFlags {
  const program = new Command('herald').exitOverride();
  registerListen(program);
  const cmd = program.commands.find((c) => c.name() === 'listen')!;
  cmd.action(() => {});
  program.parse(['listen', ...args], { from: 'user' });
  return cmd.opts() as ListenFlags;
}

/** One CLI invocation to its end. */
function cli(args: string[], cwd: string, env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...HERALD_CLI, ...args],
      { cwd, env: cleanEnv(env), timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

describe('herald listen --tenant', () => {
  let herald: HeraldProcess;
  let url: string;
  let adminKey: string;
  let cwd: string;
  const as = (method: string, path: string, body?: unknown) => api(url, adminKey, method, path, body);

  /** `herald listen …` in the background, in `cwd` (whose ./herald-data/admin-key is the API key). */
  function listen(...args: string[]): GroupProcess {
    return spawnGroup(process.execPath, [...HERALD_CLI, 'listen', ...args], {
      cwd,
      env: cleanEnv({ HERALD_URL: url }),
    });
  }

  /** Waits for the listener's ready line; answers its endpoint id and port. */
  async function ready(proc: GroupProcess): Promise<{ endpointId: string; port: number; secret: string }> {
    const m = await proc.printed(
      /Listening on http:\/\/127\.0\.0\.1:(\d+)\/ .*registered as endpoint (ep_\w+)[^\n]*\nSigning secret (\S+)/,
      'its ready lines',
    );
    return { port: Number(m[1]), endpointId: m[2]!, secret: m[3]! };
  }

  async function publish(tenant: string, type: string, data: unknown): Promise<string> {
    const res = await as('POST', `/v1/tenants/${tenant}/events`, { type, data });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return (res.body as { id: string }).id;
  }

  /** The delivery of event `eventId` once `check` holds for it. */
  async function deliveryOf(tenant: string, eventId: string, what: string, check: (d: Delivery) => boolean) {
    let last: unknown;
    return waitFor(
      what,
      async () => {
        const res = await as('GET', `/v1/tenants/${tenant}/deliveries?eventId=${eventId}`);
        last = res.body;
        const d = (res.body as { data: Delivery[] }).data[0];
        return d && check(d) ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, detail: () => JSON.stringify(last) },
    );
  }

  async function stopAndCheckRemoved(proc: GroupProcess, tenant: string, endpointId: string) {
    proc.signal('SIGTERM');
    assert.deepEqual(await proc.exited, { code: 0, signal: null }, proc.stderr());
    assert.match(proc.stdout(), new RegExp(`^Removed endpoint ${endpointId}$`, 'm'));
    const gone = await as('GET', `/v1/tenants/${tenant}/endpoints/${endpointId}`);
    assert.equal(gone.status, 404, JSON.stringify(gone.body));
  }

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'herald-listen-'));
    herald = await startHeraldProcess(
      'serve',
      {
        PORT: '0',
        LOG_LEVEL: 'warn',
        HERALD_DATA_DIR: join(cwd, 'herald-data'),
        HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      { startTimeoutMs: 120_000 },
    );
    url = herald.url!;
    adminKey = readFileSync(join(cwd, 'herald-data', 'admin-key'), 'utf8').trim();
    for (const id of ['acme', 'fwd', 'fail', 'opts', 'ed']) {
      const res = await as('POST', '/v1/tenants', { id, name: id });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await stopSpawnedGroups();
    await killSpawned();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('registers its endpoint, prints a delivery verified, and removes the endpoint on SIGTERM', async () => {
    const proc = listen('--tenant', 'acme', '--events', 'invoice.*');
    const { endpointId, port, secret } = await ready(proc);
    const ep = await as('GET', `/v1/tenants/acme/endpoints/${endpointId}`);
    assert.equal(ep.status, 200);
    const endpoint = ep.body as { url: string; eventTypes: string[]; profile: string };
    assert.equal(endpoint.url, `http://127.0.0.1:${port}/`);
    assert.deepEqual(endpoint.eventTypes, ['invoice.*']);
    assert.equal(endpoint.profile, 'standard');
    const stored = await as('GET', `/v1/tenants/acme/endpoints/${endpointId}/secret`);
    assert.equal(
      (stored.body as { secret: string }).secret,
      secret,
      'it verifies with the secret Herald signs with',
    );

    const eventId = await publish('acme', 'invoice.created', { invoiceId: 42 });
    await proc.printed(/verified +✓\nsequence +1 \(attempt 1\)\nanswered +200\n/, 'the verified delivery');
    assert.match(proc.stdout(), new RegExp(`event +invoice\\.created {2}\\(id ${eventId}\\)`));
    assert.match(proc.stdout(), /"invoiceId": 42/);
    await deliveryOf('acme', eventId, 'the delivery succeeded', (d) => d.status === 'succeeded');

    // A request Herald did not sign is refused, and printed as such.
    const forged = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: '{"type":"invoice.created"}',
      headers: {
        'webhook-id': 'x',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAA',
      },
    });
    assert.equal(forged.status, 400);
    await proc.printed(/verified +✗ INVALID_SIGNATURE/, 'the refused request');

    await stopAndCheckRemoved(proc, 'acme', endpointId);
  });

  test('--forward-to hands the delivery on unchanged and answers Herald with the app’s status', async () => {
    const got: { headers: IncomingMessage['headers']; body: string }[] = [];
    let answer = 201;
    const app: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answer, { 'content-type': 'text/plain' }).end(`app answered ${answer}`);
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/hook`;
    const proc = listen('--tenant', 'fwd', '--forward-to', appUrl);
    const { endpointId, secret } = await ready(proc);

    const first = await publish('fwd', 'invoice.paid', { n: 1 });
    const ok = await deliveryOf('fwd', first, 'a delivery answered 201', (d) => d.lastStatusCode === 201);
    assert.equal(ok.status, 'succeeded');
    assert.equal(got.length, 1);
    // The app gets Herald's bytes and headers: it can verify the signature itself.
    const payload = verifyWebhook({
      profile: 'standard',
      secret,
      body: got[0]!.body,
      headers: got[0]!.headers,
    });
    assert.deepEqual((payload as { data: unknown }).data, { n: 1 });
    assert.equal(got[0]!.headers['herald-event-type'], 'invoice.paid');
    assert.match(proc.stdout(), new RegExp(`answered +201 from ${appUrl.replace(/\./g, '\\.')}`));

    answer = 503;
    const second = await publish('fwd', 'invoice.paid', { n: 2 });
    const failed = await deliveryOf(
      'fwd',
      second,
      'a delivery answered 503',
      (d) => d.lastStatusCode === 503,
    );
    assert.equal(failed.status, 'pending', 'a failed attempt: retried later');

    // The app gone: Herald is answered 502.
    await new Promise<void>((resolve) => app.close(() => resolve()));
    app.closeAllConnections();
    const third = await publish('fwd', 'invoice.paid', { n: 3 });
    await deliveryOf('fwd', third, 'a delivery answered 502', (d) => d.lastStatusCode === 502);
    await proc.printed(/answered +502 \(cannot reach [^\n]*ECONNREFUSED/, 'the 502');

    await stopAndCheckRemoved(proc, 'fwd', endpointId);
  });

  test('--status 500 makes the attempt fail', async () => {
    const proc = listen('--tenant', 'fail', '--status', '500');
    const { endpointId } = await ready(proc);
    const eventId = await publish('fail', 'order.paid', { n: 1 });
    const d = await deliveryOf('fail', eventId, 'an attempt answered 500', (x) => x.lastStatusCode === 500);
    assert.equal(d.status, 'pending');
    assert.equal(d.attemptCount, 1);
    await proc.printed(/verified +✓\n[^\n]*\nanswered +500 \(--status\)/, 'the delivery answered 500');
    await stopAndCheckRemoved(proc, 'fail', endpointId);
  });

  test('--signature-scheme ed25519: the endpoint signs v1a, listen verifies with its whpk_ key', async () => {
    const proc = listen('--tenant', 'ed', '--signature-scheme', 'ed25519');
    const m = await proc.printed(
      /registered as endpoint (ep_\w+)[^\n]*\nPublic key \(Ed25519\) (whpk_\S+)/,
      'its ready lines',
    );
    const [endpointId, publicKey] = [m[1]!, m[2]!];
    const ep = (await as('GET', `/v1/tenants/ed/endpoints/${endpointId}`)).body as { publicKey: string };
    assert.equal(ep.publicKey, publicKey);
    const eventId = await publish('ed', 'invoice.created', { invoiceId: 7 });
    await proc.printed(/verified +✓\nsequence +1 \(attempt 1\)\nanswered +200\n/, 'the verified delivery');
    await deliveryOf('ed', eventId, 'the delivery succeeded', (d) => d.status === 'succeeded');
    await stopAndCheckRemoved(proc, 'ed', endpointId);
  });

  test('bad options: one line, exit 2, nothing registered', async () => {
    const cases: [string[], RegExp][] = [
      [['--secret', 'not-base64!!'], /--secret: a standard-profile secret must be base64/],
      [
        ['--secret', 'whsec_c2hvcnQ='],
        /--secret: a standard-profile secret must decode to at least 16 bytes/,
      ],
      [
        ['--profile', 'courier-invoice'],
        /the courier-invoice profile needs accountNumber: give it with --account-number/,
      ],
      [['--options', '{"nope": 1}'], /profileOptions\.nope: is not an option of the standard profile/],
      [['--forward-to', 'localhost:3000/hook'], /--forward-to must be an http or https URL/],
      [['--forward-to', 'http://'], /--forward-to is not an absolute URL/],
      [['--status', '600'], /--status must be 100…599/],
      [['--status', '99'], /--status must be 100…599/],
      [['--status', 'teapot'], /--status must be 100…599/],
      [
        ['--status', '500', '--forward-to', 'http://127.0.0.1:9/'],
        /--status cannot be given with --forward-to/,
      ],
      [['--port', '70000'], /--port must be 0…65535/],
      [['--profile', 'nope'], /--profile must be one of standard, /],
      [['--signature-scheme', 'rsa'], /--signature-scheme must be hmac-sha256 or ed25519/],
      [['--secret', `whpk_${Buffer.alloc(32, 1).toString('base64')}`], /a whpk_ public key cannot sign/],
      [
        ['--signature-scheme', 'ed25519', '--secret', `whsec_${Buffer.alloc(32, 1).toString('base64')}`],
        /--secret is not a key of --signature-scheme ed25519/,
      ],
      [['--secret', 'whsk_c2hvcnQ='], /--secret: an Ed25519 secret key is whsk_ followed by/],
    ];
    // Every case through the option check; the first of each kind also as a real invocation
    // (a process start costs seconds here), which must print just that line and exit 2.
    const throughCli = new Set([0, 2, 4, 6, 9]);
    for (const [i, [args, message]] of cases.entries()) {
      const flags = parseListenFlags(['--tenant', 'opts', ...args]);
      assert.throws(
        () => checkListenOptions(flags),
        (err: Error) => {
          assert.ok(err instanceof UsageError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
      if (!throughCli.has(i)) continue;
      const r = await cli(['listen', '--tenant', 'opts', ...args], cwd, { HERALD_URL: url });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^herald: [^\n]+\n$/, `one line: ${args.join(' ')}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    // Without --tenant it needs an existing endpoint's secret.
    const neither = await cli(['listen'], cwd, { HERALD_URL: url });
    assert.equal(neither.code, 2);
    assert.match(
      neither.stderr,
      /^herald: give --tenant <id> to register an endpoint for listen, or the --secret/,
    );
    const list = await as('GET', '/v1/tenants/opts/endpoints');
    assert.deepEqual((list.body as { data: unknown[] }).data, [], 'nothing was registered');
  });
});

test('without --tenant, --secret is what verifies: a whpk_ key is taken, a whsk_ secret key is not', () => {
  const whpk = `whpk_${Buffer.alloc(32, 2).toString('base64')}`;
  assert.equal(checkListenOptions(parseListenFlags(['--secret', whpk])).secret, whpk);
  const whsk = `whsk_${Buffer.alloc(32, 2).toString('base64')}`;
  assert.throws(
    () => checkListenOptions(parseListenFlags(['--secret', whsk])),
    /verify with its whpk_ public key/,
  );
  assert.throws(
    () => checkListenOptions(parseListenFlags(['--secret', whpk, '--signature-scheme', 'ed25519'])),
    /--signature-scheme needs --tenant/,
  );
});

test('herald listen --tenant against a Herald that refuses loopback: the hint, exit 1', async () => {
  const t = await makeTestApp('pglite', { config: { allowPrivateNetworks: false } });
  const cwd = mkdtempSync(join(tmpdir(), 'herald-listen-'));
  try {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
    mkdirSync(join(cwd, 'herald-data'));
    writeFileSync(join(cwd, 'herald-data', 'admin-key'), `${t.adminKey}\n`);
    const r = await cli(['listen', '--tenant', 'acme'], cwd, { HERALD_URL: url });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      'herald: Herald refuses to deliver to 127.0.0.1 (BLOCKED_ADDRESS): restart Herald with HERALD_ALLOW_PRIVATE_NETWORKS=true (development only) so it can deliver to herald listen\n',
    );
    assert.doesNotMatch(r.stdout, /Listening/);
    const list = await t.request('GET', '/v1/tenants/acme/endpoints');
    assert.deepEqual(list.json().data, []);
  } finally {
    await t.close();
    rmSync(cwd, { recursive: true, force: true });
  }
});

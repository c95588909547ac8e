/**
 * The CLI's manners without a server (issue 17, item 6): usage errors as one line and exit 2,
 * colour only on a terminal (NO_COLOR, FORCE_COLOR), a missing API key explained, durations shown
 * as they are written, and commands loaded only when they run — a client command never loads the
 * server. The CLI runs as a real child process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { buildProgram, COMMANDS } from '../../src/cli/program.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MODULE_LOG_HOOK = fileURLToPath(new URL('../support/module-log.mjs', import.meta.url));
const TSX = import.meta.resolve('tsx');
const cwd = mkdtempSync(join(tmpdir(), 'herald-cli-usage-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in an empty directory (no admin key file), with only `env` of Herald's and colour's variables. */
function cli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Result> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(HERALD_.*|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR|NO_COLOR|TERM)$/.test(k))
      clean[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--import', TSX, MAIN, ...args],
      // A loopback port nothing should answer on: no command here may reach a server.
      { cwd, env: { ...clean, HERALD_URL: 'http://127.0.0.1:9', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

test('usage errors: one line naming the command to ask for help, exit 2', async () => {
  const cases: Array<[string[], string]> = [
    [
      ['endpoints', 'create', 'https://a.example/', '--tenant', 'acme', '--x'],
      "herald: unknown option '--x' (see herald endpoints create --help)\n",
    ],
    [['nope'], "herald: unknown command 'nope' (see herald --help)\n"],
    [
      ['events', 'list'],
      "herald: required option '--tenant <id>' not specified (see herald events list --help)\n",
    ],
    [
      ['tenants', 'list', '--limit', '0'],
      "herald: option '--limit <n>' argument '0' is invalid. --limit must be a positive integer (see herald tenants list --help)\n",
    ],
    [['serve', '--port', 'x'], 'herald: invalid --port: "x" is not a whole number\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await cli(args);
    assert.deepEqual([r.code, r.stderr, r.stdout], [2, stderr, ''], args.join(' '));
  }
  // A group without its command: its help (what it offers), as a usage error.
  const group = await cli(['endpoints']);
  assert.equal(group.code, 2);
  assert.match(group.stderr, /^Usage: herald endpoints \[options\] \[command\]/);
  assert.match(group.stderr, /delete-by-url/);
  // Asking for help is not an error.
  const help = await cli(['endpoints', 'create', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--retry-schedule <delays>/);
});

test('colour: on with FORCE_COLOR, off when piped and whenever NO_COLOR is set', async () => {
  const args = ['nope'];
  const piped = await cli(args);
  assert.equal(piped.stderr.includes('\u001b['), false);
  const forced = await cli(args, { FORCE_COLOR: '1' });
  assert.equal(
    forced.stderr,
    "\u001b[1m\u001b[31mherald:\u001b[39m\u001b[22m unknown command 'nope' (see herald --help)\n",
  );
  const no = await cli(args, { FORCE_COLOR: '1', NO_COLOR: '1' });
  assert.equal(no.stderr, "herald: unknown command 'nope' (see herald --help)\n");
  // The help's section titles follow the same rule (commander's).
  assert.ok((await cli(['--help'], { FORCE_COLOR: '1' })).stdout.includes('\u001b[1mUsage:\u001b[22m'));
  assert.ok(!(await cli(['--help'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout.includes('\u001b'));
});

test('no API key: exit 2 and where keys come from, before any request', async () => {
  const r = await cli(['tenants', 'list']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').length, 2, 'one line');
  for (const where of [
    '--api-key',
    'HERALD_API_KEY',
    'herald-data/admin-key',
    'HERALD_DATA_DIR',
    'herald tenants create-key',
  ]) {
    assert.ok(r.stderr.includes(where), `names ${where}: ${r.stderr}`);
  }
  // With a key the request is made (nothing listens on port 9: the network error, exit 1).
  const withKey = await cli(['tenants', 'list'], { HERALD_API_KEY: 'hk_x' });
  assert.equal(withKey.code, 1);
  assert.match(withKey.stderr, /^NETWORK_ERROR: /);
});

test('--help lists every command; durations are shown as the README writes them', async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name} `, 'm'), c.name);
  const serve = (await cli(['serve', '--help'])).stdout.replace(/\s+/g, ' ');
  assert.match(
    serve,
    /--disable-after <value> disable an endpoint after failing continuously this long \(default 5d\)/,
  );
  assert.match(
    serve,
    /--circuit-max-cooldown <value> the longest an open circuit waits between probes \(default 10m\)/,
  );
  assert.doesNotMatch(serve, /432000/);
});

test('a client command loads neither the server nor the other commands', async () => {
  const log = join(cwd, 'modules.log');
  const r = await cli(['tenants', 'list'], { HERALD_API_KEY: 'hk_x', MODULE_LOG: log }, [
    '--import',
    MODULE_LOG_HOOK,
  ]);
  assert.equal(r.code, 1, r.stderr);
  const loaded = readFileSync(log, 'utf8').split('\n');
  assert.ok(
    loaded.some((u) => u.endsWith('/src/cli/commands/tenants.ts')),
    'the command it ran',
  );
  const heavy = loaded.filter((u) =>
    /\/src\/(server|api|db|delivery|store)\/|\/node_modules\/(fastify|pg|@electric-sql|pino)\/|\/src\/cli\/commands\/(endpoints|listen|server)\.ts$/.test(
      u,
    ),
  );
  assert.deepEqual(heavy, []);
});

test("the command table's descriptions are the commands' own", async () => {
  for (const entry of COMMANDS) {
    const program = new Command('herald');
    await entry.register(program, entry);
    const registered = program.commands.find((c) => c.name() === entry.name);
    assert.equal(registered?.description(), entry.description, entry.name);
  }
  // buildProgram registers the named command in full and the others by name only.
  const program = await buildProgram(['endpoints', 'list']);
  const byName = new Map(program.commands.map((c) => [c.name(), c]));
  assert.ok(byName.get('endpoints')!.commands.length > 5);
  assert.equal(byName.get('tenants')!.commands.length, 0);
});

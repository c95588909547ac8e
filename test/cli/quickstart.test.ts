/**
 * The README's Quickstart, run as written: its marked blocks (`<!-- quickstart: <kind> -->` before
 * a sh block) with bash, in document order, in a fresh directory standing in for the checkout (the
 * repository's files linked into it, no data directory), loopback only:
 * - `herald`: a terminal of its own, left running once it prints that Herald is running;
 * - `terminal`: one shell session, the blocks typed into it one after the other (variables carry
 *   over, as in a terminal); every command must answer without an error;
 * - `listen`: a terminal of its own, left running once it prints `Listening on`;
 * - `check`: typed into the session once listen printed the delivery verified and the API shows
 *   it succeeded; its output must show the delivery `succeeded`.
 * What must differ from a developer's machine, and only that: Herald listens on a free port
 * (`PORT=0`), so `localhost:8080` in the commands, and the CLI's default URL (`HERALD_URL`), point
 * there. At the end listen is stopped as Ctrl-C would (its endpoint removed), then Herald.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanEnv, type GroupProcess, spawnGroup, stopSpawnedGroups } from '../support/cli-process.ts';
import { waitFor } from '../support/poll.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const KINDS = ['herald', 'terminal', 'listen', 'check'] as const;
type Kind = (typeof KINDS)[number];

/** The marked sh blocks of the README's Quickstart section, in order. */
function quickstartBlocks(readme: string): { kind: Kind; code: string }[] {
  const start = readme.indexOf('\n## Quickstart\n');
  assert.ok(start >= 0, 'README.md has a Quickstart section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks: { kind: Kind; code: string }[] = [];
  for (const m of section.matchAll(/<!-- quickstart: (\S+) -->\n```sh\n([\s\S]*?)\n```/g)) {
    const kind = m[1] as Kind;
    assert.ok(KINDS.includes(kind), `unknown quickstart block kind ${m[1]}`);
    blocks.push({ kind, code: m[2]! });
  }
  return blocks;
}

/** A directory like a fresh checkout: every file of the repository linked, but no data directory. */
function checkoutLike(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-quickstart-'));
  for (const name of readdirSync(ROOT)) {
    if (name === 'herald-data' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, name), join(dir, name));
  }
  return dir;
}

let dir: string | undefined;
after(async () => {
  await stopSpawnedGroups();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the README's quickstart ends with a delivery printed by herald listen and succeeded in the API", async () => {
  const blocks = quickstartBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  for (const kind of KINDS)
    assert.ok(
      blocks.some((b) => b.kind === kind),
      `a "${kind}" block`,
    );
  dir = checkoutLike();
  let heraldUrl: string | undefined;
  let herald: GroupProcess | undefined;
  let listen: GroupProcess | undefined;
  let session: GroupProcess | undefined;
  let typed = 0;
  const env = () => cleanEnv({ PORT: '0', ...(heraldUrl ? { HERALD_URL: heraldUrl } : {}) });
  const local = (code: string) => {
    assert.ok(heraldUrl, 'Herald was started by an earlier block');
    return code.replaceAll('localhost:8080', heraldUrl.replace(/^http:\/\//, ''));
  };

  /** Types `code` into the session and answers what it printed. */
  async function type(code: string): Promise<string> {
    session ??= spawnGroup('bash', ['--norc', '--noprofile'], { cwd: dir as string, env: env() });
    const n = ++typed;
    const from = session.stdout().length;
    session.write(`${local(code)}\nprintf '\\n@@done ${n} %s@@\\n' "$?"\n`);
    const done = await session.printed(new RegExp(`@@done ${n} (\\d+)@@`), `the end of block ${n}`);
    const output = session.stdout().slice(from, done.index);
    assert.equal(done[1], '0', `block ${n} exited ${done[1]}:\n${code}\n${output}\n${session.stderr()}`);
    assert.doesNotMatch(output, /"error"\s*:/, `block ${n} met a refusal:\n${output}`);
    return output;
  }

  for (const { kind, code } of blocks) {
    if (kind === 'herald') {
      herald = spawnGroup('bash', ['-c', code], { cwd: dir, env: env() });
      heraldUrl =
        // A fresh data directory is initialised and migrated first: seconds, more on a busy machine.
        (
          await herald.printed(/running on (http:\/\/127\.0\.0\.1:\d+)/, 'that Herald is running', 120_000)
        )[1];
    } else if (kind === 'listen') {
      listen = spawnGroup('bash', ['-c', local(code)], { cwd: dir, env: env() });
      await listen.printed(/^Listening on http:\/\/127\.0\.0\.1:\d+\//m, 'its Listening line');
    } else if (kind === 'terminal') {
      await type(code);
    } else {
      assert.ok(listen, 'a listen block came before the check');
      await listen.printed(/verified +✓/, 'a verified delivery');
      // What the reader sees once listen printed it: Herald records the answer right after.
      const succeeded = () =>
        fetch(`${heraldUrl}/v1/tenants/acme/deliveries?status=succeeded`, {
          headers: {
            authorization: `Bearer ${readFileSync(join(dir as string, 'herald-data', 'admin-key'), 'utf8').trim()}`,
          },
        }).then(async (r) => ((await r.json()) as { data: unknown[] }).data.length > 0);
      await waitFor('the delivery recorded succeeded', succeeded);
      const output = await type(code);
      assert.match(output, /"status":"succeeded"/);
      assert.match(output, /"eventType":"invoice.created"/);
    }
  }
  assert.match(listen!.stdout(), /event +invoice\.created {2}\(id msg_\w+\)\nverified +✓/);
  const ui = await fetch(`${heraldUrl}/ui`);
  assert.equal(ui.status, 200, 'the dashboard the quickstart points at');

  // Ctrl-C: listen removes its endpoint; then Herald drains and stops.
  listen!.signal('SIGINT');
  await listen!.printed(/^Removed endpoint ep_\w+$/m, 'that it removed its endpoint');
  await listen!.exited;
  herald!.signal('SIGINT');
  await herald!.exited;
  session?.signal('SIGKILL');
});

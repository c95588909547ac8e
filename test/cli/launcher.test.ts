/**
 * bin/herald.js chooses what to run: the compiled CLI in an installed package (no src/), and in a
 * source checkout only while the build is newer than every source file; otherwise the TypeScript
 * through tsx. Each case lays out a copy of the launcher beside a dist/ and a src/ whose entry points
 * print which one ran, with file times set explicitly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const repo = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'herald-launcher-'));
after(() => rmSync(root, { recursive: true, force: true }));

const BUILT = new Date('2030-01-02T00:00:00Z');
const BEFORE = new Date('2030-01-01T00:00:00Z');
const AFTER = new Date('2030-01-03T00:00:00Z');

interface Layout {
  dist?: boolean;
  stamp?: boolean;
  /** The source tree, with the time of its newest file (absent: an installed package). */
  src?: Date;
  /** The time of src/'s folders (a file added, removed or renamed); default: before the build. */
  srcFolders?: Date;
}

let n = 0;
function run(layout: Layout): string {
  const dir = join(root, String(n++));
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(repo, 'bin/herald.js'), join(dir, 'bin/herald.js'));
  // tsx, as a checkout has it.
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
  if (layout.dist) {
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    writeFileSync(join(dir, 'dist/cli/main.js'), "console.log('compiled');\n");
    if (layout.stamp) {
      writeFileSync(join(dir, 'dist/.built'), '');
      utimesSync(join(dir, 'dist/.built'), BUILT, BUILT);
    }
  }
  if (layout.src) {
    mkdirSync(join(dir, 'src/cli'), { recursive: true });
    mkdirSync(join(dir, 'src/db/migrations'), { recursive: true });
    const files = ['src/cli/main.ts', 'src/db/migrations/001_init.sql'];
    writeFileSync(join(dir, files[0]!), "const ran: string = 'source';\nconsole.log(ran);\n");
    writeFileSync(join(dir, files[1]!), 'select 1;\n');
    for (const f of files) utimesSync(join(dir, f), BEFORE, BEFORE);
    // The newest file decides, wherever it is in the tree.
    utimesSync(join(dir, files[1]!), layout.src, layout.src);
    for (const d of ['src', 'src/cli', 'src/db', 'src/db/migrations']) {
      utimesSync(join(dir, d), layout.srcFolders ?? BEFORE, layout.srcFolders ?? BEFORE);
    }
  }
  const res = spawnSync(process.execPath, [join(dir, 'bin/herald.js')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.trim();
}

test('an installed package (no src/) runs the compiled CLI', () => {
  assert.equal(run({ dist: true }), 'compiled');
});

test('a checkout runs dist/ while it is newer than every source file', () => {
  assert.equal(run({ dist: true, stamp: true, src: BEFORE }), 'compiled');
});

test('a checkout with a source file changed after the build runs the source through tsx', () => {
  assert.equal(run({ dist: true, stamp: true, src: AFTER }), 'source');
});

test('a checkout with a source file removed after the build runs the source', () => {
  assert.equal(run({ dist: true, stamp: true, src: BEFORE, srcFolders: AFTER }), 'source');
});

test('a checkout without a build, or with an unstamped one, runs the source', () => {
  assert.equal(run({ src: BEFORE }), 'source');
  assert.equal(run({ dist: true, src: BEFORE }), 'source');
});

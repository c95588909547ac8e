/** The package's entry points: what `exports` names exists, and `herald/verify` needs nothing but Node. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

test('every exports entry maps a dist/ file that the build compiles from an existing source', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types: string; default: string }>;
  };
  const build = readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8');
  for (const name of ['.', './verify', './client']) {
    const entry = pkg.exports[name];
    assert.ok(entry && typeof entry === 'object', `exports["${name}"]`);
    const source = entry.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    assert.equal(entry.types, entry.default.replace(/\.js$/, '.d.ts'));
    assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
    // scripts/build.sh compiles the whole of src/ (the server runs from dist/ too).
    assert.ok(build.includes('"include": ["src"]'), 'tsconfig.build.json compiles src/');
  }
});

test('herald/verify imports only node: built-ins and its own files (receivers can use it alone)', () => {
  const dir = join(ROOT, 'src', 'verify');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      assert.ok(
        spec.startsWith('node:') || /^\.\/[a-z0-9-]+\.ts$/.test(spec),
        `${file} imports "${spec}": only node: built-ins and ./files in src/verify are allowed`,
      );
    }
  }
});

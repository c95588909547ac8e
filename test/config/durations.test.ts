/**
 * Durations are written one way everywhere (issue 17): accepted as `5d`, `12h`, `30m`, `90s` or
 * seconds, shown as formatDuration writes them — in `--help` and in the README's settings table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPTIONS } from '../../src/config/config.ts';
import { ConfigError, formatDuration, parseDuration } from '../../src/config/option-values.ts';

test('formatDuration writes the largest whole unit, and parseDuration reads it back', () => {
  const cases: Array<[number, string]> = [
    [432000, '5d'],
    [86400, '1d'],
    [43200, '12h'],
    [600, '10m'],
    [90, '90s'],
    [30, '30s'],
    [3601, '3601s'],
  ];
  for (const [seconds, text] of cases) {
    assert.equal(formatDuration(seconds), text);
    assert.equal(parseDuration(text, 'x'), seconds);
  }
  assert.equal(parseDuration('432000', 'x'), 432000, 'plain seconds are accepted too');
  assert.throws(() => parseDuration('5 days', 'HERALD_DISABLE_AFTER'), ConfigError);
});

test("the README's settings table: every setting, and durations' defaults as --help shows them", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const opt of OPTIONS) {
    const row = readme
      .split('\n')
      .find((l) => l.startsWith(`| \`${opt.env}\``) || l.includes(` / \`${opt.env}\``));
    assert.ok(row, `${opt.env} has a row`);
    assert.ok(row.includes(`\`--${opt.flag}\``), `${opt.env}'s row names --${opt.flag}`);
    if ('duration' in opt && opt.duration) {
      const cells = row.split('|').map((c) => c.trim());
      assert.equal(cells[3], `\`${formatDuration(opt.default)}\``, opt.env);
    }
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { palette, useColour } from '../../src/core/colour.ts';

test('colour on a terminal only; NO_COLOR wins, FORCE_COLOR forces, TERM=dumb has none', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  const cases: Array<[{ isTTY?: boolean }, NodeJS.ProcessEnv, boolean]> = [
    [tty, {}, true],
    [pipe, {}, false],
    [{}, {}, false],
    [tty, { NO_COLOR: '1' }, false],
    [tty, { NO_COLOR: '' }, true], // no-color.org: present and not empty
    [pipe, { FORCE_COLOR: '1' }, true],
    [pipe, { FORCE_COLOR: '' }, true],
    [tty, { FORCE_COLOR: '0' }, false],
    [tty, { FORCE_COLOR: 'false' }, false],
    [pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, false],
    [tty, { TERM: 'dumb' }, false],
  ];
  for (const [stream, env, expected] of cases) {
    assert.equal(useColour(stream, env), expected, JSON.stringify([stream, env]));
  }
});

test('palette(false) leaves text alone; palette(true) wraps it in SGR codes', () => {
  assert.equal(palette(false).red('x'), 'x');
  assert.equal(palette(true).red('x'), '\u001b[31mx\u001b[39m');
  assert.equal(palette(true).bold('x'), '\u001b[1mx\u001b[22m');
});

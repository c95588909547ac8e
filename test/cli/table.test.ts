import assert from 'node:assert/strict';
import { test } from 'node:test';
import { details, printable, table } from '../../src/cli/table.ts';
import { palette } from '../../src/core/colour.ts';

test('control characters from others are printed escaped; tabs and newlines stay (issue 16)', () => {
  assert.equal(
    printable('a\u001b[31mb\u0007\tc\nd\u009b2J\u007f'),
    'a\\u001b[31mb\\u0007\tc\nd\\u009b2J\\u007f',
  );
  const name = 'ok\u001b]0;pwned\u0007';
  for (const out of [table([{ name }], ['name']), details({ name })]) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear.
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(out), JSON.stringify(out));
    assert.match(out, /ok\\u001b\]0;pwned\\u0007/);
  }
});

test('with colour the header is bold and the columns still line up; escaping comes before colour', () => {
  const rows = [{ id: 'acme', name: 'Acme\u001b[2J' }];
  const out = table(rows, ['id', 'name'], palette(true)).split('\n');
  assert.equal(out[0], '\u001b[1mID    NAME\u001b[22m');
  assert.equal(out[1], 'acme  Acme\\u001b[2J');
  assert.equal(details({ id: 'acme' }, ['id'], palette(true)), '\u001b[1mid\u001b[22m  acme');
  assert.equal(table(rows, ['id', 'name']).split('\n')[0], 'ID    NAME', 'no colour unless asked');
});

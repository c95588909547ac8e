/**
 * Logs (issue 17, item 6): a readable line per record on a terminal, JSON lines otherwise or when
 * HERALD_LOG_FORMAT=json; colour only where allowed; redaction and escaping in both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { palette } from '../../src/core/colour.ts';
import { createLogger, formatRecord, loggerOptions, readableLogs } from '../../src/server/logger.ts';

/** A stdout stand-in that keeps what is written. */
function output(isTTY: boolean) {
  const lines: string[] = [];
  return { isTTY, lines, write: (s: string) => lines.push(s) };
}

const at = new Date(2030, 0, 1, 12, 34, 56, 789).getTime(); // local time, as the line shows it

test('the format: readable on a terminal (auto) or when asked, JSON otherwise', () => {
  assert.equal(readableLogs('auto', { isTTY: true }), true);
  assert.equal(readableLogs('auto', { isTTY: false }), false);
  assert.equal(readableLogs('auto', {}), false);
  assert.equal(readableLogs('json', { isTTY: true }), false);
  assert.equal(readableLogs('pretty', { isTTY: false }), true);
  assert.equal('stream' in loggerOptions('info', 'auto', output(false)), false, 'pino writes JSON itself');
  assert.equal('stream' in loggerOptions('info', 'auto', output(true)), true);
});

test('a record as one line: time, level, message, fields; Fastify requests shortened', () => {
  const plain = palette(false);
  assert.equal(
    formatRecord(
      JSON.stringify({
        level: 30,
        time: at,
        pid: 1,
        hostname: 'h',
        msg: 'migrations applied',
        applied: ['012_x'],
      }),
      plain,
    ),
    '12:34:56.789 INFO  migrations applied  applied=["012_x"]\n',
  );
  assert.equal(
    formatRecord(
      JSON.stringify({
        level: 30,
        time: at,
        reqId: 'req-1',
        res: { statusCode: 404 },
        req: { method: 'GET', url: '/v1/nope' },
        responseTime: 1.234,
        msg: 'request completed',
      }),
      plain,
    ),
    '12:34:56.789 INFO  request completed  reqId=req-1 → 404 GET /v1/nope 1.2ms\n',
  );
  const withError = formatRecord(
    JSON.stringify({
      level: 50,
      time: at,
      msg: 'claim failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
      role: 'dispatcher',
    }),
    plain,
  );
  assert.equal(
    withError,
    '12:34:56.789 ERROR claim failed  err=boom role=dispatcher\n    Error: boom\n        at x\n',
  );
  // Not JSON: passed through as it came.
  assert.equal(formatRecord('plain text\n', plain), 'plain text\n');
});

test('control characters others wrote are escaped; colours are ours only', () => {
  const line = formatRecord(
    JSON.stringify({
      level: 40,
      time: at,
      msg: 'receiver said \u001b]0;pwned\u0007',
      url: 'https://a.example/\u001b[2J',
    }),
    palette(true),
  );
  assert.ok(line.includes('receiver said \\u001b]0;pwned\\u0007'));
  assert.ok(line.includes('url=https://a.example/\\u001b[2J'));
  assert.ok(line.includes('\u001b[33mWARN \u001b[39m'), 'the level in yellow');
  assert.ok(!line.includes('\u0007'));
});

test('createLogger on a terminal: a readable line, secrets redacted, no colour under NO_COLOR', () => {
  const saved = process.env['NO_COLOR'];
  process.env['NO_COLOR'] = '1';
  try {
    const tty = output(true);
    createLogger('info', 'auto', tty).info({ endpoint: { secret: 'whsec_x' }, n: 2 }, 'hello');
    assert.equal(tty.lines.length, 1);
    assert.match(
      tty.lines[0]!,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}hello {2}endpoint=\{"secret":"\[redacted\]"\} n=2\n$/,
    );
  } finally {
    if (saved === undefined) delete process.env['NO_COLOR'];
    else process.env['NO_COLOR'] = saved;
  }
});

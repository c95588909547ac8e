/** The dispatcher's timer (src/delivery/wake-timer.ts): the soonest reason to wake wins. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWakeTimer } from '../../src/delivery/wake-timer.ts';
import { waitFor } from '../support/poll.ts';

test('arming for later than it is set changes nothing; sooner replaces it; clear stops it', async () => {
  const fired: number[] = [];
  const started = Date.now();
  const timer = createWakeTimer(() => fired.push(Date.now() - started));
  timer.arm(20);
  timer.arm(60_000); // later: ignored
  await waitFor('fired once', () => fired.length === 1);
  assert.ok(fired[0]! < 60_000);

  timer.arm(60_000);
  timer.arm(10); // sooner: replaces it
  await waitFor('fired again', () => fired.length === 2);

  // Cleared, the 10 ms timer is gone: arming for 40 ms is not ignored as later than it. (A timer
  // never fires early, so this bound cannot fail by chance.)
  timer.arm(10);
  timer.clear();
  const armedAt = Date.now() - started;
  timer.arm(40);
  await waitFor('fired a third time', () => fired.length === 3);
  assert.ok(fired[2]! - armedAt >= 39, `fired ${fired[2]! - armedAt} ms after being armed for 40`);
});

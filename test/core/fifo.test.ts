import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from '../../src/core/fifo.ts';

test('a fifo hands items back in the order they came, through its compactions', () => {
  // Against an array as the reference, with pushes and shifts interleaved unevenly so the head
  // passes half the items (and 1,024) many times, and the queue empties now and then.
  const q = new Fifo<number>();
  const reference: number[] = [];
  let next = 0;
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 200; round++) {
    const pushes = Math.floor(random() * 3000);
    for (let i = 0; i < pushes; i++) {
      q.push(next);
      reference.push(next++);
    }
    const shifts = Math.floor(random() * 3500);
    for (let i = 0; i < shifts; i++) assert.equal(q.shift(), reference.shift());
    assert.equal(q.length, reference.length);
    assert.equal(q.peek(), reference[0]);
  }
  assert.deepEqual(q.toArray(), reference);
});

test('an empty fifo answers undefined and stays usable', () => {
  const q = new Fifo<string>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  assert.equal(q.length, 0);
  q.push('a');
  q.push('b');
  assert.equal(q.shift(), 'a');
  assert.deepEqual(q.toArray(), ['b']);
  assert.equal(q.shift(), 'b');
  assert.equal(q.shift(), undefined);
  q.push('c');
  assert.equal(q.peek(), 'c');
});

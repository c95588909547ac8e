/**
 * Runs every example in examples/ as a user would (`node --import tsx examples/<product>/run.ts`):
 * each starts embedded Herald and a loopback receiver written as that product documents, and exits
 * 0 only when the receiver verified every delivery. Also pins the Courier Invoice naming rule.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ticketEventName } from '../../examples/courier-invoice/ticket-event-name.ts';

const ROOT = join(import.meta.dirname, '..', '..');

for (const product of ['courier-invoice', 'invoiceahoy', 'shipstream', 'corrigopro', 'altoviz']) {
  test(`examples/${product} runs and its receiver verifies every delivery`, async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join('examples', product, 'run.ts')],
        { cwd: ROOT, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    assert.equal(code, 0, output);
    assert.match(output, /every delivery verified/);
  });
}

test('Courier Invoice naming: TransferState wins, timestamps in reverse order, pickup vs update', () => {
  const fresh = { kind: 'oncall' as const, fields: {} };
  assert.equal(ticketEventName({ pTimeStamp: 't' }, fresh), 'ticket.oncall.pickup');
  assert.equal(ticketEventName({ pTimeStamp: 't', Notes: 'n' }, fresh), 'ticket.oncall.pickup');
  assert.equal(ticketEventName({ pTimeStamp: 't', Other: 1 }, fresh), 'ticket.oncall.update');
  assert.equal(
    ticketEventName({ pTimeStamp: 't' }, { kind: 'oncall', fields: { pTimeStamp: 'x' } }),
    'ticket.oncall.update',
  );
  assert.equal(
    ticketEventName({ ReceivedDate: 't', DispatchTimeStamp: 't' }, fresh),
    'ticket.oncall.dispatch',
  );
  assert.equal(
    ticketEventName({ DispatchTimeStamp: 't' }, { kind: 'contract', fields: {} }),
    'ticket.contract.dispatch',
  );
  assert.equal(ticketEventName({ TransferState: 1, dTimeStamp: 't' }, fresh), 'ticket.oncall.transfer');
});

/**
 * courier-invoice: golden bytes, and the receiver Courier Invoice documents, run in PHP on them:
 * `hash_equals(hash_hmac('sha256', $webhook . $account . $timeVal, $key), $token)`, plus PHP's
 * `json_encode(json_decode($body, true))` giving back the body byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { courierInvoiceProfile } from '../../src/profiles/courier-invoice.ts';
import { runPhp } from './php/php.ts';
import { event, FIXED_UNIX, renderInput } from './profile-input.ts';

const KEY = 'ci_private_key_123';
const ACCOUNT = 'A-1001';

const twoTickets = () =>
  renderInput({
    secret: KEY,
    options: { accountNumber: ACCOUNT },
    events: [
      event('msg_1', 'ticket.oncall.pickup', {
        ticketNumber: 'T-42',
        url: 'https://courier.test/t/42',
        driver: 'José',
        tags: {},
      }),
      event('msg_2', 'ticket.oncall.update', { ticketNumber: 'T-43', Notes: 'a/b é 😀' }),
    ],
  });

interface Verdict {
  verified: boolean;
  sameBytes: boolean;
  types: string[];
}

async function phpVerdict(body: string, token: string, account = ACCOUNT, key = KEY): Promise<Verdict> {
  const out = await runPhp('courier-invoice-receiver.php', [token], body, {
    CI_PRIVATE_KEY: key,
    CI_ACCOUNT_NUMBER: account,
  });
  return JSON.parse(out) as Verdict;
}

test('golden bytes: one request for the batch, PHP-encoded, X-CI-AUTH over body . account . timestamp', () => {
  const out = courierInvoiceProfile.render(twoTickets());
  assert.equal(
    out.body,
    String.raw`{"timestamp":1893553445,"Data":[{"type":"ticket.oncall.pickup","error":null,"ticketNumber":"T-42","url":"https:\/\/courier.test\/t\/42","driver":"Jos\u00e9","tags":[]},{"type":"ticket.oncall.update","error":null,"ticketNumber":"T-43","Notes":"a\/b \u00e9 \ud83d\ude00"}]}`,
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json',
    'x-ci-auth': 'ffe01c0982b6df74348fbc55acb16dde59baa930c34cdd09e486937d68d1870d',
  });
  assert.ok(String(out.body).includes(`"timestamp":${FIXED_UNIX},`));
});

test('the documented PHP receiver verifies the token and re-encodes the body to the same bytes', async () => {
  const out = courierInvoiceProfile.render(twoTickets());
  const body = String(out.body);
  const token = out.headers['x-ci-auth']!;
  assert.deepEqual(await phpVerdict(body, token), {
    verified: true,
    sameBytes: true,
    types: ['ticket.oncall.pickup', 'ticket.oncall.update'],
  });
  // The same check refuses another account, another key, and a body changed by one byte.
  assert.equal((await phpVerdict(body, token, 'A-1002')).verified, false);
  assert.equal((await phpVerdict(body, token, ACCOUNT, 'other_key')).verified, false);
  assert.equal((await phpVerdict(body.replace('T-42', 'T-44'), token)).verified, false);
});

test('entries: type is the event type, error null unless the data has one, data fields after them', () => {
  const out = courierInvoiceProfile.render(
    renderInput({
      secret: KEY,
      options: { accountNumber: ACCOUNT },
      events: [event('msg_1', 'ticket.contract.transfer', { 2: 'two', type: 'ignored', error: 'E42', x: 1 })],
    }),
  );
  assert.equal(
    out.body,
    '{"timestamp":1893553445,"Data":[{"type":"ticket.contract.transfer","error":"E42","2":"two","x":1}]}',
  );
});

test('no account number or no events: a render error, not a request', () => {
  const events = [event('msg_1', 'ticket.oncall.pickup', {})];
  assert.throws(() => courierInvoiceProfile.render(renderInput({ secret: KEY, events })), /accountNumber/);
  assert.throws(
    () =>
      courierInvoiceProfile.render(
        renderInput({ secret: KEY, options: { accountNumber: ACCOUNT }, events: [] }),
      ),
    /at least one event/,
  );
});

/**
 * Courier Invoice on Herald: one `courier-invoice` endpoint with the customer's account number and
 * private API key; one API call of the product that touches three tickets is published as one
 * Herald call, so the customer gets ONE webhook whose Data holds three entries — verified by the
 * PHP receiver the product documents.
 *
 *   node --import tsx examples/courier-invoice/run.ts
 */
import { join } from 'node:path';
import { eventually, runExample, startExampleHerald } from '../shared/herald.ts';
import { startPhpServer } from '../shared/php-server.ts';
import { ticketEventName } from './ticket-event-name.ts';

const PRIVATE_KEY = 'ci-private-api-key-0001';
const ACCOUNT_NUMBER = 'A-1001';

runExample('courier-invoice', async () => {
  const herald = await startExampleHerald();
  const receiver = await startPhpServer(join(import.meta.dirname, 'receiver.php'), {
    CI_PRIVATE_KEY: PRIVATE_KEY,
    CI_ACCOUNT_NUMBER: ACCOUNT_NUMBER,
  });
  try {
    await herald.api('POST', '/v1/tenants', { id: 'courier', name: 'Courier Invoice customer' });
    await herald.api('POST', '/v1/tenants/courier/endpoints', {
      url: receiver.url,
      profile: 'courier-invoice',
      profileOptions: { accountNumber: ACCOUNT_NUMBER },
      secret: PRIVATE_KEY,
      eventTypes: ['ticket.*'],
    });

    // One PUT to the product's API updating three tickets; each is named by the product's rule.
    const changes = [
      {
        ticket: { kind: 'oncall', fields: {} },
        request: { pTimeStamp: '2030-01-02 10:00:00', Notes: 'at dock 4/B' },
      },
      {
        ticket: { kind: 'oncall', fields: { pTimeStamp: 'x' } },
        request: { pTimeStamp: '2030-01-02 10:05:00' },
      },
      {
        ticket: { kind: 'contract', fields: {} },
        request: { TransferState: 1, dTimeStamp: '2030-01-02 10:06:00', driver: 'José' },
      },
    ] as const;
    const events = changes.map(({ ticket, request }, i) => ({
      type: ticketEventName(request, { kind: ticket.kind, fields: { ...ticket.fields } }),
      data: { ticketNumber: `T-${100 + i}`, ...request },
    }));
    console.log('published types:', events.map((e) => e.type).join(', '));
    await herald.api('POST', '/v1/tenants/courier/events', { events });

    const want = ['ticket.oncall.pickup', 'ticket.oncall.update', 'ticket.contract.transfer'];
    if (!(await eventually(() => receiver.verdicts().length > 0))) return false;
    const verdicts = receiver.verdicts();
    console.log('receiver verdicts:', JSON.stringify(verdicts));
    const [v] = verdicts;
    return (
      verdicts.length === 1 &&
      v?.['verified'] === true &&
      v['sameBytes'] === true &&
      JSON.stringify(v['types']) === JSON.stringify(want)
    );
  } finally {
    await receiver.stop();
    await herald.stop();
  }
});

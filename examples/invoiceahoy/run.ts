/**
 * InvoiceAhoy on Herald: a webhook registered with a name, the invoice events and a URL becomes an
 * `invoiceahoy` endpoint; the receiver checks `x-ia-signature` with the snippet from InvoiceAhoy's
 * documentation, unchanged.
 *
 *   node --import tsx examples/invoiceahoy/run.ts
 */
import crypto from 'node:crypto';
import { eventually, runExample, startExampleHerald } from '../shared/herald.ts';
import { startNodeReceiver } from '../shared/node-receiver.ts';

const secret = 'invoiceahoy-webhook-secret';

runExample('invoiceahoy', async () => {
  const herald = await startExampleHerald();
  const receiver = await startNodeReceiver((headers, payload) => {
    const req = { headers };
    // From "Verifying a request":
    const signature = req.headers['x-ia-signature'];
    const hash = crypto.createHmac('sha256', secret).update(payload).digest('hex');
    if (hash === signature) {
      return true; // Request is verified
    }
    return false; // Request could not be verified
  });
  try {
    await herald.api('POST', '/v1/tenants', { id: 'app', name: 'InvoiceAhoy app' });
    await herald.api('POST', '/v1/tenants/app/endpoints', {
      url: receiver.url,
      description: 'My invoice webhook',
      profile: 'invoiceahoy',
      secret,
      eventTypes: ['invoice.created', 'invoice.updated', 'invoice.deleted'],
    });
    for (const type of ['invoice.created', 'invoice.updated', 'invoice.deleted']) {
      await herald.api('POST', '/v1/tenants/app/events', { type, data: { id: 'WAz8eIbvDR60rouK' } });
    }
    if (!(await eventually(() => receiver.received.length >= 3))) return false;
    console.log('received:', JSON.stringify(receiver.received));
    return receiver.received.every((r) => r.verified);
  } finally {
    await receiver.stop();
    await herald.stop();
  }
});

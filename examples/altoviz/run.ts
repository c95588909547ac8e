/**
 * Altoviz on Herald: a webhook registered with a name, types and a URL (and a secret key) becomes an
 * `altoviz` endpoint; the receiver follows Altoviz's three steps — take X-SIGNATURE, HMAC-SHA256
 * the body with the secret key, compare.
 *
 *   node --import tsx examples/altoviz/run.ts
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { eventually, runExample, startExampleHerald } from '../shared/herald.ts';
import { startNodeReceiver } from '../shared/node-receiver.ts';

const secretKey = 'altoviz-secret-key-01';

runExample('altoviz', async () => {
  const herald = await startExampleHerald();
  const receiver = await startNodeReceiver((headers, body) => {
    const extracted = Buffer.from(String(headers['x-signature'] ?? ''), 'hex'); // Step 1
    const calculated = createHmac('sha256', secretKey).update(body).digest(); // Step 2
    return extracted.length === calculated.length && timingSafeEqual(extracted, calculated); // Step 3
  });
  try {
    await herald.api('POST', '/v1/tenants', { id: 'shop', name: 'Altoviz customer' });
    const endpoint = await herald.api<{ id: string }>('POST', '/v1/tenants/shop/endpoints', {
      url: receiver.url,
      description: 'Demo customers',
      profile: 'altoviz',
      secret: secretKey,
      eventTypes: ['CustomerCreated', 'CustomerUpdated', 'CustomerDeleted'],
    });
    await herald.api('POST', '/v1/tenants/shop/events', {
      type: 'CustomerCreated',
      data: { id: 370, email: 'julien_fournier@intuit.com', companyName: 'Auchan hypermarché' },
    });
    if (!(await eventually(() => receiver.received.length >= 1))) return false;
    console.log('received:', JSON.stringify(receiver.received));
    const [r] = receiver.received;
    return r?.verified === true && (r.body as { id: string }).id === endpoint.id;
  } finally {
    await receiver.stop();
    await herald.stop();
  }
});

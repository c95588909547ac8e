/**
 * ShipStream on Herald: a `shipstream` endpoint (webhook.create with topics, url and secret_key)
 * gets each event with `message_id` = its sequence, so the customer can spot a missed payload;
 * the PHP receiver ShipStream documents verifies every one.
 *
 *   node --import tsx examples/shipstream/run.ts
 */
import { join } from 'node:path';
import { eventually, runExample, startExampleHerald } from '../shared/herald.ts';
import { startPhpServer } from '../shared/php-server.ts';

const SECRET_KEY = 'shipstream-secret-key-01';

runExample('shipstream', async () => {
  const herald = await startExampleHerald();
  const receiver = await startPhpServer(join(import.meta.dirname, 'receiver.php'), {
    SHIPSTREAM_SECRET_KEY: SECRET_KEY,
  });
  try {
    await herald.api('POST', '/v1/tenants', { id: 'merchant', name: 'ShipStream merchant' });
    await herald.api('POST', '/v1/tenants/merchant/endpoints', {
      url: receiver.url,
      profile: 'shipstream',
      secret: SECRET_KEY,
      eventTypes: ['order:*', 'shipment:*'],
    });
    for (const [type, data] of [
      ['order:created', { order_id: '100000001' }],
      ['shipment:packed', { shipment_id: '200000001', order_id: '100000001' }],
      ['order:complete', { order_id: '100000001' }],
    ] as const) {
      await herald.api('POST', '/v1/tenants/merchant/events', { type, data });
    }
    if (!(await eventually(() => receiver.verdicts().length >= 3))) return false;
    const verdicts = receiver.verdicts();
    console.log('receiver verdicts:', JSON.stringify(verdicts));
    const ids = verdicts.map((v) => Number(v['message_id'])).sort();
    return verdicts.every((v) => v['verified'] === true) && JSON.stringify(ids) === '[1,2,3]';
  } finally {
    await receiver.stop();
    await herald.stop();
  }
});

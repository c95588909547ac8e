/**
 * CorrigoPro on Herald: a `corrigopro` endpoint authenticates with OAuth 2 client credentials
 * against the customer's token server; the customer's CMMS receiver accepts a notification only
 * with a bearer token that server issued, and reads the action from `Event-Type` and the body's
 * `Header` block.
 *
 *   node --import tsx examples/corrigopro/run.ts
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, runExample, startExampleHerald } from '../shared/herald.ts';
import { startNodeReceiver } from '../shared/node-receiver.ts';

const CLIENT_ID = 'corrigopro-webhooks';
const CLIENT_SECRET = 'cmms-client-secret-01';

runExample('corrigopro', async () => {
  // The customer's authorisation server: client credentials in, bearer token out.
  const issued = new Set<string>();
  const tokenServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const ok =
        form.get('grant_type') === 'client_credentials' &&
        form.get('client_id') === CLIENT_ID &&
        form.get('client_secret') === CLIENT_SECRET;
      res.setHeader('content-type', 'application/json');
      if (!ok) {
        res.statusCode = 401;
        res.end('{"error":"invalid_client"}');
        return;
      }
      const token = randomBytes(24).toString('base64url');
      issued.add(token);
      res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth/token`;

  // The CMMS receiver: a token it issued, and an Event-Type that matches Header.Action.
  const receiver = await startNodeReceiver((headers, raw) => {
    const token = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    const body = JSON.parse(raw) as { Header?: { Action?: string; MessageId?: string } };
    return token !== undefined && issued.has(token) && headers['event-type'] === body.Header?.Action;
  });
  const herald = await startExampleHerald();
  try {
    await herald.api('POST', '/v1/tenants', { id: 'cmms', name: 'CMMS customer' });
    await herald.api('POST', '/v1/tenants/cmms/endpoints', {
      url: receiver.url,
      profile: 'corrigopro',
      auth: { type: 'oauth2', tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scope: 'webhooks' },
    });
    for (const [type, data] of [
      [
        'WorkOrderCreated',
        { WorkOrderId: 42, BranchId: 492042, Sender: { Name: 'Jon Snow', Type: 'CorrigoPro' } },
      ],
      ['WorkOrderAccepted', { WorkOrderId: 42, BranchId: 492042, Eta: '2030-01-02T10:00:00Z' }],
    ] as const) {
      await herald.api('POST', '/v1/tenants/cmms/events', { type, data });
    }
    if (!(await eventually(() => receiver.received.length >= 2))) return false;
    console.log('received:', JSON.stringify(receiver.received));
    return receiver.received.every((r) => r.verified) && issued.size === 1;
  } finally {
    await herald.stop();
    await receiver.stop();
    tokenServer.closeAllConnections();
    await new Promise((resolve) => tokenServer.close(resolve));
  }
});

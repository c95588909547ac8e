/**
 * The OAuth 2 token cache against a loopback token server: cached until shortly before expiry,
 * one fetch shared by concurrent callers, dropped only for the refused token, errors as
 * OAuthTokenError.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { createOAuthTokens, OAuthTokenError, type TokenRequest } from '../../src/delivery/oauth-tokens.ts';
import { type Receiver, startReceiver } from '../support/delivery-fixtures.ts';

let server: Receiver;
let answer: { status: number; body: string } = { status: 200, body: '' };
let issued = 0;
const agent = new Agent();

before(async () => {
  server = await startReceiver((_req, res) => {
    res.statusCode = answer.status;
    res.end(answer.body || JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 600 }));
  });
});
after(async () => {
  await server.close();
  await agent.close();
});

const request = (nowMs: number, key = 'ep_1:sealed'): TokenRequest => ({
  key,
  credentials: { type: 'oauth2', tokenUrl: server.url, clientId: 'c', clientSecret: 's' },
  dispatcher: agent,
  timeoutMs: 2000,
  nowMs,
  userAgent: 'test',
});

test('cached until 30 s before expires_in; concurrent callers share one fetch', async () => {
  const tokens = createOAuthTokens();
  const before = server.requests.length;
  const all = await Promise.all([tokens.get(request(0)), tokens.get(request(0)), tokens.get(request(0))]);
  assert.equal(new Set(all).size, 1);
  assert.equal(server.requests.length - before, 1);
  assert.equal(await tokens.get(request(569_000)), all[0], 'still live 31 s before expiry');
  const renewed = await tokens.get(request(570_000));
  assert.notEqual(renewed, all[0], 'renewed 30 s before expiry');
  assert.equal(server.requests.length - before, 2);
});

test('invalidate drops only the refused token; other keys are separate', async () => {
  const tokens = createOAuthTokens();
  const first = await tokens.get(request(0));
  tokens.invalidate('ep_1:sealed', 'some-other-token');
  assert.equal(await tokens.get(request(0)), first);
  tokens.invalidate('ep_1:sealed', first);
  assert.notEqual(await tokens.get(request(0)), first);
  assert.notEqual(await tokens.get(request(0, 'ep_2:sealed')), first);
});

test('a non-2xx answer, non-JSON or no access_token is an OAuthTokenError', async () => {
  const tokens = createOAuthTokens();
  for (const [status, body, message] of [
    [401, '{"error":"invalid_client"}', /HTTP 401/],
    [200, 'not json', /not JSON/],
    [200, '{"token_type":"Bearer"}', /no usable access_token/],
  ] as const) {
    answer = { status, body };
    await assert.rejects(
      tokens.get(request(0)),
      (err: Error) => err instanceof OAuthTokenError && message.test(err.message),
    );
  }
  answer = { status: 200, body: '' };
  const closed = {
    ...request(0),
    credentials: { ...request(0).credentials, tokenUrl: 'http://127.0.0.1:1/token' },
  };
  await assert.rejects(tokens.get(closed), /token request failed \(connect_error\)/);
});

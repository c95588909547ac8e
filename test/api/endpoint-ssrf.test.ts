/** Registration-time SSRF check: with private networks refused, non-public URLs are BLOCKED_ADDRESS. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('endpoint URLs and private networks', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind, {
      config: { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.2/32'] },
    });
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
  });
  after(() => t.close());

  test('loopback, private, link-local and numeric spellings are refused at registration', async () => {
    const blocked = [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://2130706433/hook',
      'http://0x7f000001/hook',
      'http://127.1/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://100.64.0.1/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/hook',
    ];
    for (const url of blocked) {
      const res = await t.request('POST', '/v1/tenants/acme/endpoints', { url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'BLOCKED_ADDRESS', url);
      // The stable code, and a message that says how to allow it while developing.
      assert.match(res.json().error.message, /restart Herald with HERALD_ALLOW_PRIVATE_NETWORKS=true/, url);
    }
    const list = await t.request('GET', '/v1/tenants/acme/endpoints');
    assert.equal(list.json().data.length, 0, 'nothing was written');
  });

  test('public names and allow-listed networks are accepted', async () => {
    for (const url of ['https://hooks.example.com/x', 'http://127.0.0.2:9/hook']) {
      const res = await t.request('POST', '/v1/tenants/acme/endpoints', { url });
      assert.equal(res.statusCode, 201, `${url}: ${res.body}`);
    }
  });

  test('a patch cannot move an endpoint onto a private address', async () => {
    const created = await t.request('POST', '/v1/tenants/acme/endpoints', { url: 'https://ok.example.com/' });
    const res = await t.request('PATCH', `/v1/tenants/acme/endpoints/${created.json().id}`, {
      url: 'http://10.0.0.1/',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'BLOCKED_ADDRESS');
    assert.match(res.json().error.message, /HERALD_ALLOW_PRIVATE_NETWORKS=true/);
  });
});

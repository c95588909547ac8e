// Registration-time URL checks: no DNS and no sockets (the resolver in the last tests is a stub).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { checkUrl, MAX_URL_LENGTH } from '../../src/security/url-policy.ts';

const strict = createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] });
const open = createAddressPolicy({ allowPrivateNetworks: true, allowedNetworks: [] });

function code(url: string, policy = strict): string {
  const r = checkUrl(url, policy);
  return r.ok ? 'OK' : r.code;
}

test('accepts public http(s) URLs and names without resolving them', () => {
  for (const url of [
    'https://example.com/hooks',
    'http://example.com:8080/a?b=c',
    'https://8.8.8.8/x',
    'https://[2606:4700:4700::1111]/',
    'https://evil.test/', // a name: judged at connect time, not here
    'https://localhost.example.com/',
  ]) {
    assert.equal(code(url), 'OK', url);
  }
  const r = checkUrl('HTTPS://Example.COM/Path', strict);
  assert.ok(r.ok);
  assert.equal(r.url.href, 'https://example.com/Path');
});

test('refuses malformed and non-http URLs with INVALID_URL', () => {
  for (const url of [
    '',
    'not a url',
    '/relative/path',
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'javascript:alert(1)',
    'data:text/plain,hi',
    'ws://example.com/',
    'http://1.2.3.256/',
    'http://',
    'http://exa mple.com/',
  ]) {
    assert.equal(code(url), 'INVALID_URL', url);
  }
});

test('refuses credentials in the URL', () => {
  assert.equal(code('https://user:pass@example.com/'), 'INVALID_URL');
  assert.equal(code('https://user@example.com/'), 'INVALID_URL');
  assert.equal(code('https://:pass@example.com/'), 'INVALID_URL');
});

test('enforces the length limit', () => {
  const base = 'https://example.com/';
  assert.equal(code(base + 'a'.repeat(MAX_URL_LENGTH - base.length)), 'OK');
  assert.equal(code(base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1)), 'INVALID_URL');
  // Short as typed but longer once percent-encoded.
  assert.equal(code(base + ' '.repeat(MAX_URL_LENGTH - base.length - 1) + 'x'), 'INVALID_URL');
});

test('refuses blocked IP literals in every spelling', () => {
  for (const url of [
    'http://127.0.0.1/',
    'http://127.0.0.1:8080/',
    'http://10.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://[::1]/',
    'http://[::]/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[64:ff9b::10.0.0.1]/',
    'http://[2002:7f00:1::1]/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://127.0.0.1./',
    'http://%31%32%37.0.0.1/', // percent-encoded host
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://192.0.2.1/',
  ]) {
    assert.equal(code(url), 'BLOCKED_ADDRESS', url);
  }
});

test('treats localhost names as loopback', () => {
  for (const url of [
    'http://localhost/',
    'http://LOCALHOST:3000/',
    'http://localhost./',
    'http://api.localhost/',
    'http://a.b.localhost/',
    'http://localhost.localdomain/',
    'http://ip6-localhost/',
  ]) {
    assert.equal(code(url), 'BLOCKED_ADDRESS', url);
    assert.equal(code(url, open), 'OK', url);
  }
});

test('the refusal names the range', () => {
  const r = checkUrl('http://169.254.169.254/', strict);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && /linkLocal/.test(r.message));
});

test('allowPrivateNetworks and allowedNetworks let literals through', () => {
  assert.equal(code('http://127.0.0.1:9999/', open), 'OK');
  assert.equal(code('http://[::1]/', open), 'OK');
  const some = createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: ['10.20.0.0/16'] });
  assert.equal(code('http://10.20.3.4/', some), 'OK');
  assert.equal(code('http://10.21.3.4/', some), 'BLOCKED_ADDRESS');
  // Still no other scheme or credentials.
  assert.equal(code('ftp://127.0.0.1/', open), 'INVALID_URL');
  assert.equal(code('http://u:p@127.0.0.1/', open), 'INVALID_URL');
});

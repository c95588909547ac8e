// Pure classification only: nothing here opens a socket or queries DNS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAddressPolicy, parseHostAddress } from '../../src/security/address-policy.ts';

const strict = createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] });

// [address, expected range]; every one of these must be refused by the default policy.
const BLOCKED: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'], // cloud metadata
  ['169.254.0.1', 'linkLocal'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['febf::1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.255', 'carrierGradeNat'],
  ['fc00::1', 'uniqueLocal'],
  ['fd12:3456::1', 'uniqueLocal'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['3fff::1', 'reserved'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['100::1', 'discard'],
  ['5f00::1', 'segmentRouting'],
  // IPv4-mapped IPv6 is judged as the IPv4 address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'linkLocal'],
  ['::ffff:0.0.0.0', 'unspecified'],
  // NAT64 well-known prefix: judged as the embedded IPv4 address
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::a00:1', 'private'],
  ['64:ff9b::a9fe:a9fe', 'linkLocal'],
  // refused outright whatever they embed
  ['64:ff9b:1::808:808', 'rfc6052'],
  ['2002:7f00:1::1', '6to4'],
  ['2002:808:808::1', '6to4'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['::ffff:0:7f00:1', 'rfc6145'],
  ['::127.0.0.1', 'ipv4Compatible'],
  ['::8.8.8.8', 'ipv4Compatible'],
  ['4000::1', 'unassigned'],
  // numeric host spellings of 127.0.0.1 and 10.0.0.1
  ['0x7f000001', 'loopback'],
  ['0X7F000001', 'loopback'],
  ['2130706433', 'loopback'],
  ['127.1', 'loopback'],
  ['127.0.1', 'loopback'],
  ['0177.0.0.1', 'loopback'],
  ['0x7f.0.0.1', 'loopback'],
  ['017700000001', 'loopback'],
  ['127.0.0.1.', 'loopback'],
  ['[::1]', 'loopback'],
  ['167772161', 'private'],
  ['0xa.0.0.1', 'private'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2001:4860:4860::8888'];
// Public ones in disguise: still allowed, since they reach a public host.
const PUBLIC_SPELLINGS = ['::ffff:8.8.8.8', '64:ff9b::808:808', '134744072', '0x08080808', '8.8.2056'];

for (const [ip, range] of BLOCKED) {
  test(`refuses ${ip} (${range})`, () => {
    assert.equal(strict.classify(ip), range);
    assert.equal(strict.isAllowed(ip), false);
  });
}

test('allows public unicast addresses (classification only, never connected to)', () => {
  for (const ip of [...PUBLIC, ...PUBLIC_SPELLINGS]) {
    assert.equal(strict.classify(ip), 'unicast', ip);
    assert.equal(strict.isAllowed(ip), true, ip);
  }
});

test('refuses what is not an IP address (fail closed)', () => {
  for (const s of ['', 'example.com', '1.2.3.256', '256.1.1.1', '09.1.1.1', '1.2.3.4.5', '::g', '1..2']) {
    assert.equal(strict.isAllowed(s), false, s);
    assert.equal(strict.classify(s), 'invalid', s);
  }
});

test('allowPrivateNetworks lifts the policy for every address', () => {
  const open = createAddressPolicy({ allowPrivateNetworks: true, allowedNetworks: [] });
  for (const [ip] of BLOCKED) assert.equal(open.isAllowed(ip), true, ip);
  assert.equal(open.isAllowed('not-an-ip'), false);
  assert.equal(open.classify('10.0.0.1'), 'private'); // classification does not change
});

test('allowedNetworks lets exactly that CIDR through', () => {
  const p = createAddressPolicy({
    allowPrivateNetworks: false,
    allowedNetworks: ['10.20.0.0/16', 'fd00:1::/32'],
  });
  assert.equal(p.isAllowed('10.20.0.0'), true);
  assert.equal(p.isAllowed('10.20.255.255'), true);
  assert.equal(p.isAllowed('::ffff:10.20.1.2'), true); // the same host, mapped
  assert.equal(p.isAllowed('64:ff9b::a14:102'), true); // the same host, through NAT64
  assert.equal(p.isAllowed('10.19.255.255'), false);
  assert.equal(p.isAllowed('10.21.0.0'), false);
  assert.equal(p.isAllowed('127.0.0.1'), false);
  assert.equal(p.isAllowed('fd00:1:ffff::1'), true);
  assert.equal(p.isAllowed('fd00:2::1'), false);
  assert.equal(p.isAllowed('8.8.8.8'), true);
});

test('allowedNetworks accepts single addresses and mapped IPv6 CIDRs', () => {
  const p = createAddressPolicy({
    allowPrivateNetworks: false,
    allowedNetworks: ['192.168.1.5', '::ffff:172.16.0.0/108'],
  });
  assert.equal(p.isAllowed('192.168.1.5'), true);
  assert.equal(p.isAllowed('192.168.1.6'), false);
  assert.equal(p.isAllowed('172.16.9.9'), true);
  assert.equal(p.isAllowed('10.0.0.1'), false);
});

test('a malformed allowedNetworks entry fails at construction', () => {
  for (const bad of [
    '10/8',
    '10.0.0.0/33',
    'fd00::/129',
    'example.com/24',
    '10.0.0.0/8/8',
    '10.0.0.0/x',
    '',
  ]) {
    assert.throws(
      () => createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [bad] }),
      /allowedNetworks/,
      bad,
    );
  }
});

test('parseHostAddress normalises numeric spellings and leaves names alone', () => {
  assert.equal(parseHostAddress('0x7f000001'), '127.0.0.1');
  assert.equal(parseHostAddress('2130706433'), '127.0.0.1');
  assert.equal(parseHostAddress('127.1'), '127.0.0.1');
  assert.equal(parseHostAddress('0177.0.0.1'), '127.0.0.1');
  assert.equal(parseHostAddress('[::ffff:127.0.0.1]'), '::ffff:7f00:1');
  assert.equal(parseHostAddress('[0:0:0:0:0:0:0:1]'), '::1');
  assert.equal(parseHostAddress('example.com'), undefined);
  assert.equal(parseHostAddress('1.2.3.example'), undefined);
  assert.equal(parseHostAddress('4294967296'), undefined); // one past 255.255.255.255
  assert.equal(parseHostAddress('4294967295'), '255.255.255.255');
});

test('parseHostAddress agrees with WHATWG URL parsing', () => {
  const hosts = [
    '0x7f000001',
    '2130706433',
    '127.1',
    '127.0.1',
    '0177.0.0.1',
    '0x7f.0.0.1',
    '017700000001',
    '127.0.0.1.',
    '0x7F.1',
    '0.0.0.0',
    '0',
    '0x',
    '1.2.3.0x',
    '10.0.0.1',
    '8.8.8.8',
    '1.2.3.4',
    '0xffffffff',
    '00000000000012.0x00000001',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[64:ff9b::127.0.0.1]',
    '[2606:4700:4700:0:0:0:0:1111]',
  ];
  for (const host of hosts) {
    const viaUrl = new URL(`http://${host}/`).hostname;
    const bare = viaUrl.startsWith('[') ? viaUrl.slice(1, -1) : viaUrl;
    assert.equal(parseHostAddress(host), bare, host);
    assert.equal(parseHostAddress(viaUrl), bare, host); // idempotent on the canonical form
  }
  // Spellings the URL parser rejects are not addresses to us either.
  for (const host of ['1.2.3.256', '09.1.1.1', '1.2.3.4.5', '0x100000000']) {
    assert.throws(() => new URL(`http://${host}/`), host);
    assert.equal(parseHostAddress(host), undefined, host);
  }
});

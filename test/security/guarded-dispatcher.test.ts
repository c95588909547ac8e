// The guarded agent, end to end through undici. Only loopback is ever dialled: names come from stub
// resolvers, and a tripwire on net.Socket#connect stops (and records) any attempt to dial anything
// else, so even a broken guard cannot send a packet to 10.0.0.1 or 8.8.8.8.
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type AddressPolicyOptions, createAddressPolicy } from '../../src/security/address-policy.ts';
import {
  BlockedAddressError,
  createGuardedAgent,
  createGuardedLookup,
  type GuardedAgentOptions,
  type ResolveAll,
} from '../../src/security/guarded-dispatcher.ts';

const isLoopback = (ip: string) => /^(127\.|::ffff:127\.)/.test(ip) || ip === '::1';
const tripped: string[] = [];
const originalConnect = net.Socket.prototype.connect;

before(() => {
  // biome-ignore lint/suspicious/noExplicitAny: wraps Node's overloaded connect(...args) as is.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
    const options = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (options && typeof options === 'object' && !options.path) {
      const host: string = options.host ?? 'localhost';
      if (net.isIP(host) !== 0 && !isLoopback(host)) {
        tripped.push(host);
        throw new Error(`tripwire: dial to ${host}`);
      }
      if (net.isIP(host) === 0) {
        const lookup = options.lookup as LookupFunction | undefined;
        if (!lookup) {
          tripped.push(`${host} (system DNS)`);
          throw new Error(`tripwire: system DNS for ${host}`);
        }
        options.lookup = ((name, opts, cb) =>
          lookup(name, opts, (err, address, family) => {
            const list = typeof address === 'string' ? [address] : address.map((a) => a.address);
            const bad = err ? undefined : list.find((a) => !isLoopback(a));
            if (bad === undefined) return cb(err, address, family);
            tripped.push(bad);
            cb(new Error(`tripwire: dial to ${bad}`), '');
          })) satisfies LookupFunction;
      }
    }
    return originalConnect.apply(this, args as Parameters<typeof originalConnect>);
  } as typeof originalConnect;
});

const receivers: Receiver[] = [];

after(async () => {
  net.Socket.prototype.connect = originalConnect;
  await Promise.all(receivers.map(close)); // also those a failed test left open
  assert.deepEqual(tripped, [], 'nothing but loopback was ever dialled');
});

interface Receiver {
  server: Server;
  port: number;
  connections: number;
}

async function receiver(host = '127.0.0.1', port = 0): Promise<Receiver> {
  const server = createServer((_req, res) => res.end('ok'));
  const r: Receiver = { server, port: 0, connections: 0 };
  receivers.push(r);
  server.on('connection', () => r.connections++);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  r.port = (server.address() as AddressInfo).port;
  return r;
}

const close = (r: Receiver) =>
  new Promise<void>((resolve) => {
    if (!r.server.listening) return resolve();
    r.server.closeAllConnections();
    r.server.close(() => resolve());
  });

function stub(answers: Record<string, string[]>): ResolveAll & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const found = answers[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: net.isIP(address) }));
  };
  return Object.assign(fn, { calls });
}

const STRICT: AddressPolicyOptions = { allowPrivateNetworks: false, allowedNetworks: [] };

async function get(
  url: string,
  options: Omit<GuardedAgentOptions, 'policy'> & { policy?: AddressPolicyOptions } = {},
) {
  const { policy = STRICT, ...rest } = options;
  const agent = createGuardedAgent({ policy: createAddressPolicy(policy), ...rest });
  try {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}

async function assertBlocked(promise: Promise<unknown>, address: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BlockedAddressError, String(err));
    assert.equal(err.code, 'BLOCKED_ADDRESS');
    assert.equal(err.address, address);
    return true;
  });
}

test('(a) a name resolving to a private address is refused before any connection', async () => {
  const r = await receiver();
  const lookup = stub({ 'evil.test': ['10.0.0.1'] });
  await assertBlocked(get(`http://evil.test:${r.port}/`, { lookup }), '10.0.0.1');
  await assertBlocked(get(`https://evil.test:${r.port}/`, { lookup }), '10.0.0.1'); // tls.connect path
  assert.deepEqual(lookup.calls, ['evil.test', 'evil.test']);
  assert.equal(r.connections, 0);
  await close(r);
});

test('(a) a name resolving to loopback is refused and the loopback receiver sees no connection', async () => {
  const r = await receiver();
  const lookup = stub({ 'evil.test': ['127.0.0.1'] });
  await assertBlocked(get(`http://evil.test:${r.port}/`, { lookup }), '127.0.0.1');
  assert.equal(r.connections, 0);
  await close(r);
});

test('(b) a literal loopback address is refused without lookup or connection', async () => {
  const r = await receiver();
  const lookup = stub({});
  await assertBlocked(get(`http://127.0.0.1:${r.port}/`, { lookup }), '127.0.0.1');
  await assertBlocked(get(`http://2130706433:${r.port}/`, { lookup }), '127.0.0.1');
  await assertBlocked(get(`https://127.0.0.1:${r.port}/`, { lookup }), '127.0.0.1');
  await assertBlocked(get(`http://[::1]:${r.port}/`, { lookup }), '::1');
  await assertBlocked(get(`http://[::ffff:127.0.0.1]:${r.port}/`, { lookup }), '::ffff:7f00:1');
  assert.deepEqual(lookup.calls, []);
  assert.equal(r.connections, 0);
  await close(r);
});

test('(b) localhost through the system resolver is refused', async () => {
  const r = await receiver();
  await assert.rejects(get(`http://localhost:${r.port}/`), { code: 'BLOCKED_ADDRESS' });
  assert.equal(r.connections, 0);
  await close(r);
});

test('(c) with allowPrivateNetworks the same requests succeed', async () => {
  const r = await receiver();
  const policy = { allowPrivateNetworks: true, allowedNetworks: [] };
  assert.deepEqual(await get(`http://127.0.0.1:${r.port}/`, { policy }), { status: 200, body: 'ok' });
  const lookup = stub({ 'evil.test': ['127.0.0.1'] });
  assert.deepEqual(await get(`http://evil.test:${r.port}/`, { policy, lookup }), { status: 200, body: 'ok' });
  assert.equal(r.connections, 2);
  await close(r);
});

test('(d) a name with any blocked address is refused, even when another is public', async () => {
  const r = await receiver();
  const lookup = stub({ 'mixed.test': ['8.8.8.8', '127.0.0.1'] });
  await assertBlocked(get(`http://mixed.test:${r.port}/`, { lookup }), '127.0.0.1');
  assert.equal(r.connections, 0);
  await close(r);
});

test('(d) an allowed address listed with a blocked one is not dialled', async () => {
  // 127.0.0.2 stands in for a public address (allowed by allowedNetworks) so nothing leaves the host.
  const allowed = await receiver('127.0.0.2');
  const blocked = await receiver('127.0.0.1', allowed.port);
  const policy = { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.2/32'] };
  const mixed = stub({ 'mixed.test': ['127.0.0.2', '127.0.0.1'] });
  await assertBlocked(get(`http://mixed.test:${allowed.port}/`, { policy, lookup: mixed }), '127.0.0.1');
  assert.equal(allowed.connections + blocked.connections, 0);
  const clean = stub({ 'clean.test': ['127.0.0.2'] });
  assert.equal((await get(`http://clean.test:${allowed.port}/`, { policy, lookup: clean })).status, 200);
  assert.deepEqual([allowed.connections, blocked.connections], [1, 0]);
  await Promise.all([close(allowed), close(blocked)]);
});

test('rebinding: the connection goes to the address that was checked, resolved once', async () => {
  const allowed = await receiver('127.0.0.2');
  const blocked = await receiver('127.0.0.1', allowed.port);
  const calls: string[] = [];
  // First answer allowed, every later one blocked: a second resolution would dial 127.0.0.1.
  const rebinding: ResolveAll = async (hostname) => {
    calls.push(hostname);
    return [{ address: calls.length === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
  };
  const policy = { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.2/32'] };
  assert.equal((await get(`http://rebind.test:${allowed.port}/`, { policy, lookup: rebinding })).status, 200);
  assert.equal(calls.length, 1);
  assert.deepEqual([allowed.connections, blocked.connections], [1, 0]);
  await Promise.all([close(allowed), close(blocked)]);
});

test('resolver failures pass through with their own code', async () => {
  await assert.rejects(get('http://gone.test:9/', { lookup: stub({}) }), { code: 'ENOTFOUND' });
  const empty = stub({ 'empty.test': [] });
  await assert.rejects(get('http://empty.test:9/', { lookup: empty }), { code: 'ENOTFOUND' });
});

test('an answer that is not an IP address is refused', async () => {
  await assert.rejects(get('http://odd.test:9/', { lookup: stub({ 'odd.test': ['0x7f000001'] }) }), {
    code: 'BLOCKED_ADDRESS',
    range: 'invalid',
  });
});

function callLookup(lookup: LookupFunction, options: Parameters<LookupFunction>[1]) {
  return new Promise<{ err: unknown; address: unknown; family: unknown }>((resolve) =>
    lookup('host.test', options, (err, address, family) => resolve({ err, address, family })),
  );
}

test('the lookup answers in both callback shapes and honours family', async () => {
  const policy = createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] });
  const lookup = createGuardedLookup(policy, stub({ 'host.test': ['2606:4700:4700::1111', '1.1.1.1'] }));
  const one = await callLookup(lookup, {});
  assert.deepEqual(one, { err: null, address: '2606:4700:4700::1111', family: 6 });
  const all = await callLookup(lookup, { all: true });
  assert.deepEqual(all.address, [
    { address: '2606:4700:4700::1111', family: 6 },
    { address: '1.1.1.1', family: 4 },
  ]);
  assert.deepEqual(await callLookup(lookup, { family: 4 }), { err: null, address: '1.1.1.1', family: 4 });
  assert.deepEqual((await callLookup(lookup, { family: 'IPv6', all: true })).address, [
    { address: '2606:4700:4700::1111', family: 6 },
  ]);
});

test('the lookup refuses a host when a blocked address hides in the family not asked for', async () => {
  const policy = createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] });
  const lookup = createGuardedLookup(policy, stub({ 'host.test': ['1.1.1.1', 'fd00::1'] }));
  const { err } = await callLookup(lookup, { family: 4 });
  assert.ok(err instanceof BlockedAddressError);
  assert.equal(err.range, 'uniqueLocal');
});

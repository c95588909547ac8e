/**
 * The SSRF-guarded HTTP agent every delivery goes through. The check sits in the connector, at the
 * last moment before a TCP connection:
 * - a host name is resolved once, by our `lookup` (net.connect's hook), and ALL its addresses are
 *   judged; if any is blocked the connect is refused. The socket then dials only those very
 *   addresses, so a DNS answer that changes between check and connect (rebinding) cannot slip in;
 * - a literal IP host skips `lookup` inside net, so it is judged before the connector runs.
 * A refusal is a BlockedAddressError (`code: 'BLOCKED_ADDRESS'`) and no TCP connection is made.
 */
import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { AddressPolicy } from './address-policy.ts';
import { parseHostAddress, withPrivateNetworksHint } from './address-policy.ts';

/** Resolves a host name to all of its addresses. */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo, honouring /etc/hosts), asked for every address. */
export const systemResolveAll: ResolveAll = (hostname) => dnsPromises.lookup(hostname, { all: true });

/** Raised instead of connecting to a blocked address; the delivery engine records it as `blocked_address`. */
export class BlockedAddressError extends Error {
  readonly code = 'BLOCKED_ADDRESS';
  readonly hostname: string;
  readonly address: string;
  readonly range: string;

  constructor(hostname: string, address: string, range: string) {
    const target = hostname === address ? address : `${hostname} (${address})`;
    super(
      withPrivateNetworksHint(`Refused to connect to ${target}: ${range} addresses are not allowed`, range),
    );
    this.name = 'BlockedAddressError';
    this.hostname = hostname;
    this.address = address;
    this.range = range;
  }
}

/** Throws BlockedAddressError unless Herald may connect to `address`. */
function assertAllowed(policy: AddressPolicy, hostname: string, address: string): void {
  // An answer that is not an IP address at all is refused too: net would hand it to the OS as is.
  if (isIP(address) === 0) throw new BlockedAddressError(hostname, address, 'invalid');
  if (!policy.isAllowed(address)) throw new BlockedAddressError(hostname, address, policy.classify(address));
}

function wantedFamily(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  return err;
}

/**
 * A net.connect `lookup` that resolves every address, refuses the host if any one is blocked, and
 * answers in whichever shape net asked for (`all: true` under autoSelectFamily, else one address).
 */
export function createGuardedLookup(
  policy: AddressPolicy,
  resolveAll: ResolveAll = systemResolveAll,
): LookupFunction {
  return (hostname, options, callback) => {
    const family = wantedFamily(options.family);
    const checked = (async () => {
      const found = await resolveAll(hostname);
      // Judge every answer, even those of the family not asked for: a host with any blocked
      // address is refused as a whole, whatever order or family the socket would try.
      for (const a of found) assertAllowed(policy, hostname, a.address);
      const usable = found
        .map((a) => ({ address: a.address, family: isIP(a.address) }))
        .filter((a) => family === 0 || a.family === family);
      if (usable.length === 0) throw notFound(hostname);
      return usable;
    })();
    // The callback runs outside the promise so an exception in net is not turned into a rejection.
    checked.then(
      (addresses) =>
        process.nextTick(() => {
          const first = addresses[0] as LookupAddress;
          if (options.all) callback(null, addresses);
          else callback(null, first.address, first.family);
        }),
      (err: NodeJS.ErrnoException) => process.nextTick(() => callback(err, '')),
    );
  };
}

/** TLS options a caller may add (e.g. `ca` for a private CA); never ones that change where we connect. */
export type GuardedTlsOptions = Omit<ConnectionOptions, 'lookup' | 'host' | 'port' | 'path' | 'socket'>;

export interface GuardedAgentOptions
  extends Omit<Agent.Options, 'connect' | 'connectTimeout' | 'factory' | 'socketPath'> {
  // `factory` and `socketPath` are left out because either could bypass the guarded connector.
  policy: AddressPolicy;
  /** TCP + TLS connect timeout, including name resolution. Default 3000 (DESIGN: 3 s connect). */
  connectTimeoutMs?: number;
  /** Name resolution; injectable so tests never query real DNS. Default: system resolver, all addresses. */
  lookup?: ResolveAll;
  /** Extra TLS options for https endpoints, e.g. `ca` for a private CA. */
  tlsOptions?: GuardedTlsOptions;
}

/** A connector that refuses blocked hosts before any socket exists, then connects via the guarded lookup. */
export function createGuardedConnector(
  policy: AddressPolicy,
  options: { connectTimeoutMs?: number; lookup?: ResolveAll; tlsOptions?: GuardedTlsOptions } = {},
): buildConnector.connector {
  const connector = buildConnector({
    ...options.tlsOptions,
    timeout: options.connectTimeoutMs ?? 3000,
    lookup: createGuardedLookup(policy, options.lookup),
  });
  return (connectOptions, callback) => {
    const host = connectOptions.hostname;
    // net skips `lookup` for an IP literal, so judge it here. A numeric spelling net does not
    // treat as an IP (e.g. `2130706433`) would reach lookup, but it is refused early all the same.
    const literal = isIP(host) !== 0 ? host : parseHostAddress(host);
    if (literal !== undefined) {
      try {
        assertAllowed(policy, host, literal);
      } catch (err) {
        // Asynchronously, like a real connect failure, so undici's connect bookkeeping is not re-entered.
        process.nextTick(() => callback(err as Error, null));
        return;
      }
    }
    connector(connectOptions, callback);
  };
}

/**
 * The undici Agent for deliveries: keep-alive pools per origin whose every connection passes the
 * address policy.
 * @example const agent = createGuardedAgent({ policy: createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] }) })
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { policy, connectTimeoutMs, lookup, tlsOptions, ...agentOptions } = options;
  return new Agent({
    ...agentOptions,
    connect: createGuardedConnector(policy, { connectTimeoutMs, lookup, tlsOptions }),
  });
}
